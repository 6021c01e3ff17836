//go:build cgo

package cparse

/*
#cgo CFLAGS: -Wall -Wextra -Werror -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
#cgo LDFLAGS: -fsanitize=address,undefined

#include <stdlib.h>
#include <string.h>

// dns_parse_src.h and dns_parse.h are symbolic links to ../../src/dns_parse.c
// and its header: the go command hashes the .h files of a package, so an
// edit of the parser rebuilds this package (it would not see a file
// included from outside the package directory).
#include "dns_parse_src.h"

// Stop at the first finding, as -fno-sanitize-recover=all would (cgo does
// not allow that flag): a report must fail the test, not scroll past.
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:detect_leaks=0";
}

const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}

// A heap block of exactly len bytes holding msg, so that ASan's red zones
// catch any read past its end; NULL when out of memory.
static unsigned char *cparse_copy(const void *msg, size_t len)
{
	unsigned char *copy = malloc(len ? len : 1);

	if (copy && len)
		memcpy(copy, msg, len);
	return copy;
}

// Parses a private copy of msg.
static int cparse_parse(const void *msg, size_t len, struct dns_query *q,
			char *name, size_t *name_len)
{
	unsigned char *copy = cparse_copy(msg, len);
	char *buf = malloc(DNS_NAME_TEXT_MAX);
	int err;

	if (!copy || !buf) {
		free(copy);
		free(buf);
		return -1000;
	}
	err = dnsmon_parse_query(copy, len, q, buf, DNS_NAME_TEXT_MAX);
	if (err == 0) {
		*name_len = strnlen(buf, DNS_NAME_TEXT_MAX);
		memcpy(name, buf, DNS_NAME_TEXT_MAX);
	}
	free(copy);
	free(buf);
	return err;
}

// The verdict-only mode: name NULL.
static int cparse_check(const void *msg, size_t len, struct dns_query *q)
{
	unsigned char *copy = cparse_copy(msg, len);
	int err;

	if (!copy)
		return -1000;
	err = dnsmon_parse_query(copy, len, q, NULL, 0);
	free(copy);
	return err;
}

// One answer record as the module would report it: A and AAAA data
// copied, a CNAME's name decoded (name_len, or the negative error).
struct cparse_answer {
	unsigned char data[DNS_AAAA_LEN];
	char name[DNS_NAME_TEXT_MAX];
	int name_len;
};

// Parses a private copy of msg[0:len] as a response of msg_len octets and
// decodes its records' data into out[0:DNS_ANSWERS_MAX].
static int cparse_response(const void *msg, size_t len, size_t msg_len,
			   struct dns_response *r, struct cparse_answer *out)
{
	unsigned char *copy = cparse_copy(msg, len);
	int err, i;

	if (!copy)
		return -1000;
	err = dnsmon_parse_response(copy, len, msg_len, r);
	for (i = 0; err == 0 && i < r->nanswers; i++) {
		const struct dns_answer *a = &r->an[i];

		switch (a->type) {
		case DNS_TYPE_A:
		case DNS_TYPE_AAAA:
			memcpy(out[i].data, copy + a->rdata, a->rdlength);
			break;
		case DNS_TYPE_CNAME:
			out[i].name_len = dnsmon_decode_name(copy, len, a->rdata,
							     out[i].name, DNS_NAME_TEXT_MAX);
			break;
		}
	}
	free(copy);
	return err;
}

// Escapes a private copy of in[0:n] into out[0:out_size].
static size_t cparse_escape(const void *in, size_t n, char *out, size_t out_size)
{
	unsigned char *copy = cparse_copy(in, n);
	size_t len;

	if (!copy)
		return 0;
	len = dnsmon_escape_bytes(copy, n, out, out_size);
	free(copy);
	return len;
}
*/
import "C"

import (
	"net/netip"
	"strconv"
	"unsafe"
)

// NameTextMax is the size of the buffer the parser writes a name into,
// its NUL included (DNS_NAME_TEXT_MAX).
const NameTextMax = C.DNS_NAME_TEXT_MAX

// Query is what the C parser made of a message.
type Query struct {
	// Err is 0 when msg is a query whose first question decoded, or the
	// parser's negative enum dns_parse_error.
	Err int
	// ID, Type and Class are the message id and the first question's
	// QTYPE and QCLASS; zero unless Err is 0.
	ID, Type, Class uint16
	// Name is the first question's name in presentation form.
	Name string
	// NameLen is the length the parser reported for Name; it must equal
	// len(Name), the bytes before the NUL.
	NameLen int
}

// Why names the parser's verdict on a message that is not reported as a
// query: "short-header", "response", "opcode", "no-question", or a reason
// the module reports as malformed ("label-past-end", "question-past-end",
// "bad-label-type", "name-too-long", "pointer-loop"); "" for a query.
func (q Query) Why() string {
	switch -q.Err {
	case 0:
		return ""
	case C.DNS_ESHORT:
		return "short-header"
	case C.DNS_ERESPONSE:
		return "response"
	case C.DNS_EOPCODE:
		return "opcode"
	case C.DNS_ENOQUESTION:
		return "no-question"
	case C.DNS_ETRUNCATED:
		return "label-past-end"
	case C.DNS_EQUESTION:
		return "question-past-end"
	case C.DNS_ERESERVED:
		return "bad-label-type"
	case C.DNS_ETOOLONG:
		return "name-too-long"
	case C.DNS_EPOINTERS:
		return "pointer-loop"
	}
	return "error " + strconv.Itoa(q.Err)
}

// Response is what the C parser made of a response.
type Response struct {
	// Err is 0 when msg is a response whose answers were read, or the
	// parser's negative enum dns_parse_error.
	Err int
	// ID, Flags and ANCount are the header's id, flags word and ANCOUNT.
	ID, Flags, ANCount uint16
	// QType and QClass are the first question's, 0 without one.
	QType, QClass uint16
	// Answers are the records read, in order.
	Answers []Answer
	// Cut is set when not every answer record was read.
	Cut bool
}

// Answer is one answer record.
type Answer struct {
	Type   uint16
	TTL    uint32
	Length uint16
	// Data is an A's or AAAA's address, a CNAME's name in presentation
	// form, "" for any other type.
	Data string
}

// Why names the parser's verdict on a message that is not read as a
// response: "short-header", "query", "opcode", or a reason it is
// malformed; "" for a response.
func (r Response) Why() string {
	switch -r.Err {
	case C.DNS_EQUERY:
		return "query"
	case C.DNS_ERECORD:
		return "record-past-end"
	case C.DNS_ERDATA:
		return "bad-rdata"
	case C.DNS_EBUFFER:
		return "buffer"
	}
	return Query{Err: r.Err}.Why()
}

// AnswersMax is DNS_ANSWERS_MAX, the answer records a response is read for.
const AnswersMax = C.DNS_ANSWERS_MAX

// ParseResponse runs dnsmon_parse_response on a private copy of msg, a
// read of the first len(msg) octets of a message of msgLen octets.
func ParseResponse(msg []byte, msgLen int) Response {
	var (
		r   C.struct_dns_response
		out [AnswersMax]C.struct_cparse_answer
		p   unsafe.Pointer
	)
	if len(msg) > 0 {
		p = unsafe.Pointer(&msg[0])
	}
	if err := C.cparse_response(p, C.size_t(len(msg)), C.size_t(msgLen), &r, &out[0]); err != 0 {
		return Response{Err: int(err)}
	}
	resp := Response{ID: uint16(r.id), Flags: uint16(r.flags), ANCount: uint16(r.ancount),
		QType: uint16(r.qtype), QClass: uint16(r.qclass), Cut: r.cut != 0}
	for i := range int(r.nanswers) {
		a := r.an[i]
		ans := Answer{Type: uint16(a._type), TTL: uint32(a.ttl), Length: uint16(a.rdlength)}
		switch ans.Type {
		case C.DNS_TYPE_A:
			ans.Data = netip.AddrFrom4([4]byte(C.GoBytes(unsafe.Pointer(&out[i].data[0]), C.DNS_A_LEN))).String()
		case C.DNS_TYPE_AAAA:
			ans.Data = netip.AddrFrom16([16]byte(C.GoBytes(unsafe.Pointer(&out[i].data[0]), C.DNS_AAAA_LEN))).String()
		case C.DNS_TYPE_CNAME:
			if n := int(out[i].name_len); n >= 0 {
				ans.Data = C.GoStringN(&out[i].name[0], C.int(n))
			} else {
				ans.Data = "error " + strconv.Itoa(n)
			}
		}
		resp.Answers = append(resp.Answers, ans)
	}
	return resp
}

// Check runs dnsmon_parse_query on a private copy of msg with no name
// buffer, the verdict-only mode: Name is empty and NameLen 0.
func Check(msg []byte) Query {
	var (
		q C.struct_dns_query
		p unsafe.Pointer
	)
	if len(msg) > 0 {
		p = unsafe.Pointer(&msg[0])
	}
	if err := C.cparse_check(p, C.size_t(len(msg)), &q); err != 0 {
		return Query{Err: int(err)}
	}
	return Query{ID: uint16(q.id), Type: uint16(q.qtype), Class: uint16(q.qclass), NameLen: int(q.name_len)}
}

// Parse runs dnsmon_parse_query on a private copy of msg.
func Parse(msg []byte) Query {
	var (
		q       C.struct_dns_query
		nameLen C.size_t
		name    [NameTextMax]byte
		p       unsafe.Pointer
	)
	if len(msg) > 0 {
		p = unsafe.Pointer(&msg[0])
	}
	err := C.cparse_parse(p, C.size_t(len(msg)), &q,
		(*C.char)(unsafe.Pointer(&name[0])), &nameLen)
	if err != 0 {
		return Query{Err: int(err)}
	}
	return Query{
		ID:      uint16(q.id),
		Type:    uint16(q.qtype),
		Class:   uint16(q.qclass),
		Name:    string(name[:nameLen]),
		NameLen: int(q.name_len),
	}
}

// Escape runs dnsmon_escape_bytes on a private copy of in with an output
// buffer of outSize bytes; it returns the text before the NUL.
func Escape(in []byte, outSize int) string {
	var p unsafe.Pointer
	if len(in) > 0 {
		p = unsafe.Pointer(&in[0])
	}
	out := make([]byte, outSize+1)
	n := C.cparse_escape(p, C.size_t(len(in)), (*C.char)(unsafe.Pointer(&out[0])), C.size_t(outSize))
	if outSize > 0 && out[n] != 0 {
		return "missing NUL"
	}
	return string(out[:n])
}
