// SPDX-License-Identifier: GPL-2.0
// Never compiled in the test: Kbuild stalls first, and the test cancels the
// build while it does. A module nonetheless, should the stall end.
#include <linux/module.h>

MODULE_LICENSE("GPL");
