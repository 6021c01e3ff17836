/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dns_parse.h - a bounded parser for the header and first question of a
 * DNS query message.
 *
 * Pure C: it includes no kernel header of its own, so the same file builds
 * into the module and into the user-space differential test
 * (kmod/internal/cparse), which runs it against
 * golang.org/x/net/dns/dnsmessage under ASan and UBSan.
 */
#ifndef DNS_PARSE_H
#define DNS_PARSE_H

#ifdef __KERNEL__
#include <linux/types.h>
typedef u8 dns_u8;
typedef u16 dns_u16;
#else
#include <stddef.h>
#include <stdint.h>
typedef uint8_t dns_u8;
typedef uint16_t dns_u16;
#endif

/* RFC 1035 4.1.1: the fixed header. */
#define DNS_HEADER_LEN		12
/* RFC 1035 2.3.4: a name takes at most 255 octets on the wire. */
#define DNS_NAME_WIRE_MAX	255
/*
 * Longest presentation form plus its NUL: four labels of 63, 63, 63 and
 * 61 octets, every octet escaped as \DDD, with three dots, is 1003 bytes.
 */
#define DNS_NAME_TEXT_MAX	1024
/* Compression pointers followed in one name, as dnsmessage allows. */
#define DNS_MAX_POINTERS	10

/* Why a message is not a query we report; dnsmon_parse_query returns -DNS_E*. */
enum dns_parse_error {
	DNS_EOK = 0,
	DNS_ESHORT,		/* shorter than the header */
	DNS_ERESPONSE,		/* QR is set */
	DNS_EOPCODE,		/* opcode is not QUERY */
	DNS_ENOQUESTION,	/* QDCOUNT is 0 */
	DNS_ETRUNCATED,		/* a label or pointer of the name runs past the end */
	DNS_EQUESTION,		/* QTYPE or QCLASS runs past the end */
	DNS_ERESERVED,		/* a label type 0x40 or 0x80 */
	DNS_ETOOLONG,		/* the name is over 255 octets */
	DNS_EPOINTERS,		/* more than DNS_MAX_POINTERS pointers */
	DNS_EBUFFER,		/* the caller's name buffer is too small */
};

struct dns_query {
	dns_u16 id;		/* message id */
	dns_u16 qtype;		/* first question's QTYPE */
	dns_u16 qclass;		/* first question's QCLASS */
	dns_u16 name_len;	/* bytes in the name before its NUL */
};

/*
 * dnsmon_parse_query checks that msg[0:len] starts like a DNS query (QR 0,
 * opcode QUERY, QDCOUNT >= 1) and decodes its first question.  The name
 * is written to name[0:name_size] in presentation form, NUL-terminated,
 * without a trailing dot ("." for the root); octets outside 0x21..0x7e
 * and the master-file specials " $ ( ) . ; @ \ are written as \DDD, so a
 * label holding a '.' octet reads \046 and stays one label.
 * name_size must be at least DNS_NAME_TEXT_MAX.  With name NULL the
 * message is checked the same way but nothing is written, for a caller
 * that needs the verdict only, at a fraction of the cost; q->name_len is
 * then 0.
 *
 * Returns 0 and fills *q, or a negative enum dns_parse_error; on error
 * name holds garbage.  Never reads outside msg[0:len].
 */
int dnsmon_parse_query(const dns_u8 *msg, size_t len, struct dns_query *q,
		    char *name, size_t name_size);

/*
 * dnsmon_escape_bytes writes in[0:n] to out[0:out_size] escaped the way
 * dnsmon_parse_query writes a label, NUL-terminated, as many whole octets
 * as fit; returns the length before the NUL.  For messages that do not
 * parse: their bytes as text a reader can trust.
 */
size_t dnsmon_escape_bytes(const dns_u8 *in, size_t n, char *out,
			   size_t out_size);

#endif /* DNS_PARSE_H */
