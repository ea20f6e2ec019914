/* application/vnd.amazon.eventstream framing (AWS Bedrock streams): binary
 * messages of prelude (total length, headers length, prelude CRC32; all u32
 * big-endian), typed headers, payload, message CRC32. Incremental and
 * split-proof; a payload that outgrows the cap is delivered cut, with its
 * truncated flag set. A CRC mismatch or malformed headers end the stream:
 * once the framing is lost nothing after it can be trusted. Collector
 * thread only. */
#ifndef LLM_EVENTSTREAM_H
#define LLM_EVENTSTREAM_H

#include "buf.h"

#include <stddef.h>
#include <stdint.h>

/* name of one message, from its headers (see llm_body_fn in body.h):
 *   :message-type event     -> the ":event-type" value, e.g. "contentBlockDelta"
 *   :message-type exception -> "exception:" + ":exception-type"
 *   :message-type error     -> "error:" + ":error-code"; data = ":error-message"
 * Header values are cut to fit LLM_ES_NAME_MAX. */
#define LLM_ES_NAME_MAX 256

struct llm_eventstream_msg {
    const char *event; /* NUL-terminated, "" when the headers name nothing */
    const char *data;  /* NUL-terminated payload */
    size_t data_len;
    int truncated;
};

typedef void (*llm_eventstream_fn)(void *ctx, const struct llm_eventstream_msg *m);

struct llm_eventstream {
    unsigned char prelude[12];
    unsigned char crc_in[4]; /* the trailing message CRC */
    uint32_t total, hlen;    /* from the prelude */
    uint32_t have;           /* bytes of the current message seen */
    unsigned long crc;       /* running CRC32 of the current message */
    struct llm_buf headers;
    struct llm_buf payload;
    int error; /* framing lost (bad CRC, bad lengths or headers, cut message) */
    llm_eventstream_fn fn;
    void *ctx;
};

void llm_eventstream_init(struct llm_eventstream *s, size_t max_event, llm_eventstream_fn fn,
                          void *ctx);
void llm_eventstream_feed(struct llm_eventstream *s, const char *p, size_t n);
/* End of stream: a message left incomplete sets error. */
void llm_eventstream_finish(struct llm_eventstream *s);
void llm_eventstream_free(struct llm_eventstream *s);

#endif
