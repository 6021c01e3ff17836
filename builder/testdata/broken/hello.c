// SPDX-License-Identifier: GPL-2.0
#include <linux/module.h>

static int __init hello_init(void)
{
	return this_is_not_declared;
}

module_init(hello_init);
MODULE_LICENSE("GPL");
