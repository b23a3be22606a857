// SPDX-License-Identifier: GPL-2.0
/*
 * trace.c - instantiates the umsampler tracepoints declared in
 * umsampler_trace.h (the only file that defines CREATE_TRACE_POINTS).
 */
#define CREATE_TRACE_POINTS
#include "umsampler_trace.h"
