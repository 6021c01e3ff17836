// SPDX-License-Identifier: GPL-2.0
/*
 * dns_parse.c - header and first question of a DNS query, header and
 * answer records of a response, bounded.
 *
 * The verdict and the name follow golang.org/x/net/dns/dnsmessage
 * (Parser.Start then Parser.Question) octet for octet, which the
 * differential test in kmod/internal/cparse checks:
 *   - compression pointers are followed, at most DNS_MAX_POINTERS of them,
 *     so a loop ends in DNS_EPOINTERS; a pointer may aim anywhere in the
 *     message and every target is bounds-checked like any other offset;
 *   - QTYPE and QCLASS follow the first pointer when there is one;
 *   - a name whose dotted form reaches 255 octets (over 255 on the wire)
 *     is rejected;
 *   - label types 0x40 and 0x80 are rejected.
 * One difference: dnsmessage rejects a label holding a '.' octet
 * (golang/go#56246); here it is a legal label like any other and its dot
 * is written \046, so that a tunnel cannot hide behind one.
 *
 * Every loop is bounded by the message length, DNS_NAME_WIRE_MAX and
 * DNS_MAX_POINTERS.  Only octets inside msg[0:len] are read.
 */
#include "dns_parse.h"

#define DNS_OPCODE_SHIFT	11
#define DNS_OPCODE_MASK		0xf
#define DNS_OPCODE_QUERY	0
#define DNS_LABEL_TYPE_MASK	0xc0
#define DNS_LABEL_NORMAL	0x00
#define DNS_LABEL_POINTER	0xc0
#define DNS_POINTER_MASK	0x3fff
/* dnsmessage's nonEncodedNameMax: the dotted form, trailing dot included. */
#define DNS_NAME_DOTTED_MAX	254
/* Offsets of the header fields we read. */
/* A question's QTYPE and QCLASS. */
#define DNS_QUESTION_FIXED_LEN	4
/* The least a question takes: the root name's octet, QTYPE and QCLASS. */
#define DNS_QUESTION_MIN_LEN	(1 + DNS_QUESTION_FIXED_LEN)
/* A record's TYPE, CLASS, TTL and RDLENGTH after its name. */
#define DNS_RR_FIXED_LEN	10
#define DNS_RR_OFF_TTL		4
#define DNS_RR_OFF_RDLENGTH	8
/* TCP's length prefix bounds a message; answer offsets are 16 bits. */
#define DNS_MESSAGE_MAX		65535
/* An escape is a backslash and three decimal digits. */
#define DNS_ESCAPE_LEN		4
/*
 * Steps of the name loop: at most DNS_NAME_DOTTED_MAX / 2 non-empty labels,
 * the terminator and the pointers.
 */
#define DNS_NAME_STEPS_MAX	(DNS_NAME_DOTTED_MAX / 2 + 1 + DNS_MAX_POINTERS + 1)

static dns_u16 dnsmon_get16(const dns_u8 *p)
{
	return (dns_u16)((p[0] << 8) | p[1]);
}

static dns_u32 dnsmon_get32(const dns_u8 *p)
{
	return (dns_u32)dnsmon_get16(p) << 16 | dnsmon_get16(p + 2);
}

/*
 * Octets written as themselves, a bitmap indexed by octet: 0x21..0x7e
 * except the master-file specials " $ ( ) . ; @ \.  Everything else
 * becomes \DDD.  A table, because this runs for every octet of every
 * query the host sends.
 */
#define DNS_PLAIN_WORD_BITS	64
static const unsigned long long dns_plain[256 / DNS_PLAIN_WORD_BITS] = {
	0xf7ffbcea00000000ULL,	/* 0x00..0x3f */
	0x7fffffffeffffffeULL,	/* 0x40..0x7f */
	0, 0,			/* 0x80..0xff */
};

static int dnsmon_name_octet_plain(dns_u8 c)
{
	return (int)((dns_plain[c / DNS_PLAIN_WORD_BITS] >>
		      (c % DNS_PLAIN_WORD_BITS)) & 1);
}

/*
 * Writes in[0:n] to out[p:], escaped, and returns the new position.  The
 * caller has checked that n * DNS_ESCAPE_LEN octets fit, so the octet loop
 * is a load, a test and a store.
 */
static size_t dnsmon_escape(char *out, size_t p, const dns_u8 *in, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		dns_u8 c = in[i];

		if (dnsmon_name_octet_plain(c)) {
			out[p++] = (char)c;
			continue;
		}
		out[p++] = '\\';
		out[p++] = (char)('0' + c / 100);
		out[p++] = (char)('0' + c / 10 % 10);
		out[p++] = (char)('0' + c % 10);
	}
	return p;
}

/*
 * Appends one label to name[*pos:size], escaped, and returns 0, or
 * -DNS_EBUFFER when it might not fit with room for the NUL.  Room is
 * checked once for the label escaped whole, which the caller's
 * DNS_NAME_TEXT_MAX buffer always has (four octets out for each of fewer
 * than DNS_NAME_DOTTED_MAX in).
 */
static int dnsmon_name_append(char *name, size_t size, size_t *pos,
			      const dns_u8 *label, size_t label_len)
{
	if (*pos + label_len * DNS_ESCAPE_LEN >= size)
		return -DNS_EBUFFER;
	*pos = dnsmon_escape(name, *pos, label, label_len);
	return 0;
}

size_t dnsmon_escape_bytes(const dns_u8 *in, size_t n, char *out,
			   size_t out_size)
{
	size_t i, p = 0;

	if (out_size == 0)
		return 0;
	for (i = 0; i < n; i++) {
		size_t need = dnsmon_name_octet_plain(in[i]) ? 1 : DNS_ESCAPE_LEN;

		/* Room for the octet and the NUL after it. */
		if (out_size - 1 - p < need)
			break;
		p = dnsmon_escape(out, p, in + i, 1);
	}
	out[p] = '\0';
	return p;
}

/*
 * Decodes the name at msg[off] into name, or only checks it when name is
 * NULL.  *next is set to the offset after the name as it sits in the
 * question (after its first pointer if it has one).
 */
static int dnsmon_parse_name(const dns_u8 *msg, size_t len, size_t off,
			     size_t *next, char *name, size_t name_size,
			     size_t *name_len)
{
	size_t cur = off, after = 0, dotted = 0, pos = 0;
	unsigned int pointers = 0, steps;
	int err;

	for (steps = 0; steps < DNS_NAME_STEPS_MAX; steps++) {
		dns_u8 c;
		size_t end;

		if (cur >= len)
			return -DNS_ETRUNCATED;
		c = msg[cur++];
		switch (c & DNS_LABEL_TYPE_MASK) {
		case DNS_LABEL_NORMAL:
			if (c == 0) {
				if (pointers == 0)
					after = cur;
				*next = after;
				if (!name)
					return 0;
				if (pos == 0) {
					if (name_size < 2)
						return -DNS_EBUFFER;
					name[pos++] = '.';
				}
				name[pos] = '\0';
				*name_len = pos;
				return 0;
			}
			end = cur + c;
			if (end > len)
				return -DNS_ETRUNCATED;
			if (dotted + c >= DNS_NAME_DOTTED_MAX)
				return -DNS_ETOOLONG;
			if (name) {
				if (dotted > 0) {
					if (pos + 1 >= name_size)
						return -DNS_EBUFFER;
					name[pos++] = '.';
				}
				err = dnsmon_name_append(name, name_size, &pos,
							 msg + cur, c);
				if (err)
					return err;
			}
			dotted += (size_t)c + 1;
			cur = end;
			break;
		case DNS_LABEL_POINTER:
			if (cur >= len)
				return -DNS_ETRUNCATED;
			if (pointers == 0)
				after = cur + 1;
			if (++pointers > DNS_MAX_POINTERS)
				return -DNS_EPOINTERS;
			cur = ((size_t)c << 8 | msg[cur]) & DNS_POINTER_MASK;
			break;
		default:
			return -DNS_ERESERVED;
		}
	}
	/* Unreachable: each label grows dotted by at least two. */
	return -DNS_ETOOLONG;
}

int dnsmon_parse_query(const dns_u8 *msg, size_t len, struct dns_query *q,
		       char *name, size_t name_size)
{
	dns_u16 flags;
	size_t next = 0, name_len = 0;
	int err;

	if (name && name_size < DNS_NAME_TEXT_MAX)
		return -DNS_EBUFFER;
	if (len < DNS_HEADER_LEN)
		return -DNS_ESHORT;
	flags = dnsmon_get16(msg + DNS_OFF_FLAGS);
	if (flags & DNS_FLAG_QR)
		return -DNS_ERESPONSE;
	if (((flags >> DNS_OPCODE_SHIFT) & DNS_OPCODE_MASK) != DNS_OPCODE_QUERY)
		return -DNS_EOPCODE;
	if (dnsmon_get16(msg + DNS_OFF_QDCOUNT) == 0)
		return -DNS_ENOQUESTION;

	err = dnsmon_parse_name(msg, len, DNS_HEADER_LEN, &next, name,
				name_size, &name_len);
	if (err)
		return err;
	if (next > len || len - next < 2 * sizeof(dns_u16))
		return -DNS_EQUESTION;

	q->id = dnsmon_get16(msg + DNS_OFF_ID);
	q->qtype = dnsmon_get16(msg + next);
	q->qclass = dnsmon_get16(msg + next + sizeof(dns_u16));
	q->name_len = (dns_u16)name_len;
	return 0;
}

int dnsmon_decode_name(const dns_u8 *msg, size_t len, size_t off, char *name,
		       size_t name_size)
{
	size_t next, name_len = 0;
	int err;

	if (!name || name_size < DNS_NAME_TEXT_MAX)
		return -DNS_EBUFFER;
	err = dnsmon_parse_name(msg, len, off, &next, name, name_size,
				&name_len);
	return err ? err : (int)name_len;
}

/*
 * A question or record running past the octets read ends a cut read, and
 * the records before it stand; past the message's own end it is an error.
 */
static int dnsmon_response_end(struct dns_response *r, size_t len,
			       size_t msg_len, int err)
{
	if (len < msg_len && (err == -DNS_ETRUNCATED ||
			      err == -DNS_EQUESTION || err == -DNS_ERECORD)) {
		r->cut = 1;
		return 0;
	}
	return err;
}

/* Checks the data of the record a describes, which lies inside msg. */
static int dnsmon_check_rdata(const dns_u8 *msg, size_t len,
			      const struct dns_answer *a)
{
	size_t next;

	switch (a->type) {
	case DNS_TYPE_A:
		return a->rdlength == DNS_A_LEN ? 0 : -DNS_ERDATA;
	case DNS_TYPE_AAAA:
		return a->rdlength == DNS_AAAA_LEN ? 0 : -DNS_ERDATA;
	case DNS_TYPE_CNAME:
		/* As dnsmessage: the name may point out of the data. */
		return dnsmon_parse_name(msg, len, a->rdata, &next, NULL, 0,
					 NULL);
	}
	return 0;
}

int dnsmon_parse_response(const dns_u8 *msg, size_t len, size_t msg_len,
			  struct dns_response *r)
{
	size_t off = DNS_HEADER_LEN, next = 0, qdcount, qmax, wanted, i;
	dns_u16 flags;
	int err;

	r->qtype = 0;
	r->qclass = 0;
	r->nanswers = 0;
	r->cut = 0;
	if (len > msg_len || len > DNS_MESSAGE_MAX)
		return -DNS_EBUFFER;
	if (len < DNS_HEADER_LEN)
		return -DNS_ESHORT;
	flags = dnsmon_get16(msg + DNS_OFF_FLAGS);
	if (!(flags & DNS_FLAG_QR))
		return -DNS_EQUERY;
	if (((flags >> DNS_OPCODE_SHIFT) & DNS_OPCODE_MASK) != DNS_OPCODE_QUERY)
		return -DNS_EOPCODE;
	r->id = dnsmon_get16(msg + DNS_OFF_ID);
	r->flags = flags;
	r->ancount = dnsmon_get16(msg + DNS_OFF_ANCOUNT);

	/* Past qmax questions one cannot fit: the loop ends by then. */
	qdcount = dnsmon_get16(msg + DNS_OFF_QDCOUNT);
	qmax = len / DNS_QUESTION_MIN_LEN + 1;
	for (i = 0; i < qdcount && i < qmax; i++) {
		err = dnsmon_parse_name(msg, len, off, &next, NULL, 0, NULL);
		if (!err && (next > len || len - next < DNS_QUESTION_FIXED_LEN))
			err = -DNS_EQUESTION;
		if (err)
			return dnsmon_response_end(r, len, msg_len, err);
		if (i == 0) {
			r->qtype = dnsmon_get16(msg + next);
			r->qclass = dnsmon_get16(msg + next + sizeof(dns_u16));
		}
		off = next + DNS_QUESTION_FIXED_LEN;
	}

	wanted = r->ancount;
	if (wanted > DNS_ANSWERS_MAX) {
		wanted = DNS_ANSWERS_MAX;
		r->cut = 1;
	}
	for (i = 0; i < wanted; i++) {
		struct dns_answer *a = &r->an[i];

		err = dnsmon_parse_name(msg, len, off, &next, NULL, 0, NULL);
		if (!err && (next > len || len - next < DNS_RR_FIXED_LEN))
			err = -DNS_ERECORD;
		if (err)
			return dnsmon_response_end(r, len, msg_len, err);
		a->type = dnsmon_get16(msg + next);
		a->ttl = dnsmon_get32(msg + next + DNS_RR_OFF_TTL);
		a->rdlength = dnsmon_get16(msg + next + DNS_RR_OFF_RDLENGTH);
		off = next + DNS_RR_FIXED_LEN;
		if (a->rdlength > len - off)
			return dnsmon_response_end(r, len, msg_len,
						   -DNS_ERECORD);
		a->rdata = (dns_u16)off;
		err = dnsmon_check_rdata(msg, len, a);
		if (err)
			return dnsmon_response_end(r, len, msg_len, err);
		off += a->rdlength;
		r->nanswers++;
	}
	return 0;
}
