/*
 * A stand-in for a kernel module: `gcc -c module.c` gives an ELF relocatable
 * object (as a .ko is) whose .modinfo section holds NUL-terminated
 * key=value strings laid out the way MODULE_INFO() lays them out.
 */
#define MI(tag, str) \
	static const char mi_##tag[] \
	__attribute__((section(".modinfo"), used, aligned(1))) = str

MI(version, "version=1.2.3");
MI(description, "description=DNS query monitor");
MI(license, "license=GPL");
MI(parm_ports, "parm=ports:UDP/TCP destination ports to watch (default 53)");
MI(parmtype_ports, "parmtype=ports:array of ushort");
MI(parmtype_ring, "parmtype=ring_size:uint");
MI(parm_ring, "parm=ring_size:ring capacity in records (64..65536)");
MI(parmtype_log, "parmtype=log:bool");
MI(srcversion, "srcversion=0123456789ABCDEF0123456");
MI(depends, "depends=");
MI(retpoline, "retpoline=Y");
MI(name, "name=dnsmon");
MI(vermagic, "vermagic=6.1.0-56-amd64 SMP preempt mod_unload modversions ");

int init_module(void);
int init_module(void) { return 0; }
