# SPDX-License-Identifier: GPL-2.0
#
# Top-level Makefile: builds the kernel module (through Kbuild), the userspace
# parts (test programs, host unit tests), and drives the QEMU test bed.
#
#   make                      module against the running kernel (or KDIR=...)
#   make KVER=6.1|6.12|rt     module against one of the test kernels, built in
#                             build/kmod/$(KVER)/module/umsampler.ko (debug: the
#                             KASAN/lockdep/kmemleak kernel, scripts/debugkernel.sh)
#   make check [KVER=...]     host tests + the in-guest suite on each kernel
#   make demo  [KVER=...]     a short demonstration in the guest
#   make bench [QUICK=1]      benchmarks against userspace pollers (bench/)
#   make C=1 / W=1            sparse / extra warnings, as in the kernel tree
#   make tools                the umsampler CLI and trace-cmd/perf plugin (tracing/)
#   make install              install them (PREFIX=/usr/local)
#   make fetch                download the test kernels (cached)
#   make clean

KVERS		:= 6.1 6.12 rt
KVER		?=
BUILD		:= $(CURDIR)/build
HOST_CC		?= gcc
USER_CFLAGS	:= -std=gnu11 -O2 -g -Wall -Wextra -Werror
# UMS_WERROR=y turns module warnings into errors (make check sets it).
UMS_WERROR	?=

ifeq ($(KVER),686)
# The 686-pae lane builds its own module (scripts/lane686.sh): check only.
KDIR		?= $(BUILD)/cache/kernels/686
KMOD_DIR	:= $(BUILD)/kmod/686
else ifneq ($(KVER),)
ifeq ($(filter $(KVER),$(KVERS) debug),)
$(error KVER must be one of: $(KVERS) debug (686: make check KVER=686))
endif
KDIR		?= $(shell scripts/kernels.sh kdir $(KVER))
KMOD_DIR	:= $(BUILD)/kmod/$(KVER)
else
KDIR		?= /lib/modules/$(shell uname -r)/build
KMOD_DIR	:= $(CURDIR)
endif

MODULE_SRCS	:= $(wildcard module/*.c module/*.h common/*.c common/*.h) module/Kbuild Kbuild
PROGS_SRCS	:= $(wildcard tests/progs/*.c)
PROGS		:= $(patsubst tests/progs/%.c,$(BUILD)/progs/%,$(PROGS_SRCS)) $(BUILD)/progs/umschain32

.PHONY: all module progs host-tests check demo fetch clean help print-kdir

all: module progs host-tests tools

help:
	@sed -n '3,19p' Makefile

# Builds for a test kernel happen in a mirror of the sources (symlinks), so that
# several kernels' objects never mix with each other or with an in-tree build.
module: $(MODULE_SRCS)
	@test -d "$(KDIR)" || { echo "no kernel build dir '$(KDIR)': install the headers," \
		"or use KDIR=... or KVER=6.1|6.12|rt (see README)" >&2; exit 1; }
ifneq ($(KVER),)
	@mkdir -p $(KMOD_DIR)/module $(KMOD_DIR)/common
	@find $(KMOD_DIR) -xtype l -delete
	@ln -sfn $(CURDIR)/Kbuild $(KMOD_DIR)/Kbuild
	@for f in module/Kbuild module/*.c module/*.h common/*.c common/*.h; do \
		ln -sfn $(CURDIR)/$$f $(KMOD_DIR)/$$f; done
endif
	$(MAKE) -C $(KDIR) M=$(KMOD_DIR) UMS_WERROR=$(UMS_WERROR) modules

fetch:
	scripts/kernels.sh fetch $(if $(KVER),$(KVER),$(KVERS))

# The kernel build dir the module is built against (scripts/check.sh's kernel-doc).
print-kdir:
	@echo $(KDIR)

progs: $(PROGS)

$(BUILD)/progs/%: tests/progs/%.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(USER_CFLAGS) -o $@ $< -lpthread

# The chain target again as a 32-bit static program (15-deref.t: 4-byte
# pointers; gcc-multilib).
$(BUILD)/progs/umschain32: tests/progs/umschain.c include/umsampler_seq.h
	@mkdir -p $(dir $@)
	$(HOST_CC) $(USER_CFLAGS) -m32 -static -o $@ $< -lpthread

$(BUILD)/progs/umschain: tests/progs/umschain.c include/umsampler_seq.h
	@mkdir -p $(dir $@)
	$(HOST_CC) $(USER_CFLAGS) -o $@ $< -lpthread

# The never-answering FUSE server (60-safety.t) uses libfuse3.
$(BUILD)/progs/umsfuse: tests/progs/umsfuse.c
	@mkdir -p $(dir $@)
	$(HOST_CC) $(USER_CFLAGS) $(shell pkg-config --cflags fuse3) -o $@ $< \
		$(shell pkg-config --libs fuse3)

-include tests/host/Makefile.inc
include tracing/Makefile.inc
-include bench/Makefile.inc

host-tests: $(HOST_TESTS)

# Without KVER: the three Debian kernels, plus the debug kernel if it is built (cached).
check:
	scripts/check.sh $(KVER)

# The 686-pae lane alone: Debian's 32-bit PAE kernel, watched pages in highmem
# (scripts/lane686.sh: fetch, cross-build ARCH=i386, i386 userspace, boot, TAP).
.PHONY: check-686
check-686:
	scripts/lane686.sh run

demo:
	scripts/demo.sh $(if $(KVER),$(KVER),6.12)

# Not Kbuild's clean on M=$(CURDIR): it would also delete the cached kernels'
# modules under build/cache. The kernel cache survives `make clean`.
clean:
	rm -rf $(BUILD)/kmod $(BUILD)/progs $(BUILD)/host $(BUILD)/tracing
	rm -f module/*.o module/*.ko module/*.mod module/*.mod.c module/.*.cmd module/modules.order
	rm -f Module.symvers modules.order .*.cmd .module-common.o
