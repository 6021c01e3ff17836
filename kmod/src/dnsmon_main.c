// SPDX-License-Identifier: GPL-2.0
/*
 * dnsmon_main.c - module parameters, init and exit.
 */
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>

#include "dnsmon.h"

static struct dnsmon_config dnsmon_config = {
	.ports = { DNSMON_PORT_DEFAULT },
	.nports = 1,
	.ring_size = DNSMON_RING_DEFAULT,
	.log = true,
	.responses = true,
	.answer_timeout = DNSMON_ANSWER_TIMEOUT_DEFAULT,
};

module_param_array_named(ports, dnsmon_config.ports, ushort,
			 &dnsmon_config.nports, 0444);
MODULE_PARM_DESC(ports, "destination ports of DNS servers (up to 8, default 53)");
module_param_named(ring_size, dnsmon_config.ring_size, uint, 0444);
MODULE_PARM_DESC(ring_size, "events the /dev/dnsmon ring holds (64..65536, default 4096)");
module_param_named(log, dnsmon_config.log, bool, 0644);
MODULE_PARM_DESC(log, "write a rate-limited kernel log line per query (default 1)");
module_param_named(responses, dnsmon_config.responses, bool, 0444);
MODULE_PARM_DESC(responses, "pair responses with their queries: answer and unanswered events (default 1)");
module_param_named(answer_timeout, dnsmon_config.answer_timeout, uint, 0444);
MODULE_PARM_DESC(answer_timeout, "seconds a query waits for its response before it is reported unanswered (1..3600, default 5)");

static int dnsmon_check_config(const struct dnsmon_config *config)
{
	unsigned int i;

	if (config->nports == 0 || config->nports > DNSMON_PORTS_MAX) {
		pr_err("ports: between 1 and %d ports, not %u\n",
		       DNSMON_PORTS_MAX, config->nports);
		return -EINVAL;
	}
	for (i = 0; i < config->nports; i++) {
		if (config->ports[i] == 0) {
			pr_err("ports: port 0 is not a DNS server port\n");
			return -EINVAL;
		}
	}
	if (config->ring_size < DNSMON_RING_MIN ||
	    config->ring_size > DNSMON_RING_MAX) {
		pr_err("ring_size: %u is outside %d..%d\n", config->ring_size,
		       DNSMON_RING_MIN, DNSMON_RING_MAX);
		return -EINVAL;
	}
	if (config->answer_timeout == 0 ||
	    config->answer_timeout > DNSMON_ANSWER_TIMEOUT_MAX) {
		pr_err("answer_timeout: %u is outside 1..%d seconds\n",
		       config->answer_timeout, DNSMON_ANSWER_TIMEOUT_MAX);
		return -EINVAL;
	}
	return 0;
}

static int __init dnsmon_init(void)
{
	int err;

	err = dnsmon_check_config(&dnsmon_config);
	if (err)
		return err;

	err = dnsmon_dev_init(dnsmon_config.ring_size);
	if (err)
		return err;

	err = dnsmon_hook_init(&dnsmon_config);
	if (err)
		goto exit_dev;

	pr_info("version %s loaded, %u port(s), ring of %u events, responses %s\n",
		DNSMON_VERSION, dnsmon_config.nports, dnsmon_config.ring_size,
		dnsmon_config.responses ? "on" : "off");
	return 0;

exit_dev:
	dnsmon_dev_exit();
	return err;
}

static void __exit dnsmon_exit(void)
{
	dnsmon_hook_exit();
	dnsmon_dev_exit();
	pr_info("unloaded\n");
}

module_init(dnsmon_init);
module_exit(dnsmon_exit);

MODULE_LICENSE("GPL");
MODULE_VERSION(DNSMON_VERSION);
MODULE_DESCRIPTION("Reports each DNS query leaving the host, the process that sent it, and its answer");
MODULE_AUTHOR("The dnsmon authors");
