/* SPDX-License-Identifier: GPL-2.0 */
/*
 * dns_parse.h - a bounded parser for the header and first question of a
 * DNS query message, and for the header and answer records of a response.
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
typedef u32 dns_u32;
#else
#include <stddef.h>
#include <stdint.h>
typedef uint8_t dns_u8;
typedef uint16_t dns_u16;
typedef uint32_t dns_u32;
#endif

/* RFC 1035 4.1.1: the fixed header, and where its fields are. */
#define DNS_HEADER_LEN		12
#define DNS_OFF_ID		0
#define DNS_OFF_FLAGS		2
#define DNS_OFF_QDCOUNT		4
#define DNS_OFF_ANCOUNT		6
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
	/* Responses (dnsmon_parse_response) only: */
	DNS_EQUERY,		/* QR is clear */
	DNS_ERECORD,		/* a record's fixed fields or data run past the end */
	DNS_ERDATA,		/* an A or AAAA of the wrong length, a bad CNAME name */
};

/*
 * The octets of a response read: EDNS's default UDP payload size (DNS flag
 * day 2020), which nearly every resolver's answer fits.
 */
#define DNS_RESPONSE_READ_MAX	1232
/* Answer records a response carries into its event. */
#define DNS_ANSWERS_MAX		16

/* Record types whose data is decoded; any other is reported as type + length. */
#define DNS_TYPE_A		1
#define DNS_TYPE_CNAME		5
#define DNS_TYPE_AAAA		28
#define DNS_A_LEN		4
#define DNS_AAAA_LEN		16

/* The header's flags word (RFC 1035 4.1.1, RFC 4035 3.2). */
#define DNS_FLAG_QR		0x8000
#define DNS_FLAG_AA		0x0400
#define DNS_FLAG_TC		0x0200
#define DNS_FLAG_RD		0x0100
#define DNS_FLAG_RA		0x0080
#define DNS_FLAG_AD		0x0020
#define DNS_FLAG_CD		0x0010
#define DNS_RCODE_MASK		0x000f

struct dns_answer {
	dns_u16 type;		/* TYPE */
	dns_u16 rdlength;	/* RDLENGTH */
	dns_u32 ttl;		/* TTL */
	dns_u16 rdata;		/* offset of RDATA in the message */
};

struct dns_response {
	dns_u16 id;		/* message id */
	dns_u16 flags;		/* the flags word: DNS_FLAG_*, the rcode */
	dns_u16 ancount;	/* ANCOUNT as sent */
	dns_u16 qtype;		/* first question's QTYPE; 0 without one */
	dns_u16 qclass;		/* first question's QCLASS; 0 without one */
	dns_u8 nanswers;	/* records in an[] */
	dns_u8 cut;		/* 1 when not every answer record is in an[] */
	struct dns_answer an[DNS_ANSWERS_MAX];
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

/*
 * dnsmon_parse_response checks that msg[0:len] starts like a DNS response
 * (QR 1, opcode QUERY), skips its questions (keeping the first one's
 * QTYPE and QCLASS; its name is dnsmon_decode_name's at DNS_HEADER_LEN)
 * and reads its first
 * DNS_ANSWERS_MAX answer records into *r, in order.  msg_len is the length
 * of the whole message, of which the caller read len octets (at most
 * DNS_RESPONSE_READ_MAX): the records that run past len are not read and
 * r->cut says so, as it does when ANCOUNT is over DNS_ANSWERS_MAX.  A
 * record's data must lie inside the message; an A must hold 4 octets, an
 * AAAA 16, a CNAME a name that dnsmon_decode_name decodes.
 *
 * Returns 0 and fills *r, or a negative enum dns_parse_error.  Whatever it
 * returns, r->qtype, qclass, nanswers and cut are set: on an error they
 * describe what was read before it, the records in an[0:nanswers] whole
 * and checked.  Never reads outside msg[0:len]; every loop is bounded by
 * DNS_ANSWERS_MAX and len.
 */
int dnsmon_parse_response(const dns_u8 *msg, size_t len, size_t msg_len,
			  struct dns_response *r);

/*
 * dnsmon_decode_name writes the name at msg[off] (a CNAME's data, say) to
 * name[0:name_size] the way dnsmon_parse_query writes the question's name.
 * name_size must be at least DNS_NAME_TEXT_MAX.  Returns the length before
 * the NUL, or a negative enum dns_parse_error.
 */
int dnsmon_decode_name(const dns_u8 *msg, size_t len, size_t off, char *name,
		       size_t name_size);

#endif /* DNS_PARSE_H */
