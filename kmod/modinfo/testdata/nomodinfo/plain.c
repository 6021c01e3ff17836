/* An ELF object without a .modinfo section: not a kernel module. */
int plain(void);
int plain(void) { return 0; }
