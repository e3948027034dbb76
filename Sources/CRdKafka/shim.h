#ifndef WARDWATCH_CRDKAFKA_SHIM_H
#define WARDWATCH_CRDKAFKA_SHIM_H
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

/* rd_kafka_producev is variadic, which Swift cannot call: this wrapper fixes its argument list.
 * The payload is copied (RD_KAFKA_MSG_F_COPY); on success librdkafka owns `headers`, on failure the caller does. */
static inline rd_kafka_resp_err_t ww_produce(rd_kafka_t *rk, rd_kafka_topic_t *rkt, int32_t partition,
                                             const void *key, size_t key_len,
                                             const void *value, size_t value_len,
                                             rd_kafka_headers_t *headers, int64_t timestamp_ms,
                                             void *opaque) {
    if (headers != NULL) {
        return rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                                 RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
                                 RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
    }
    return rd_kafka_producev(rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_PARTITION(partition),
                             RD_KAFKA_V_KEY(key, key_len), RD_KAFKA_V_VALUE((void *)value, value_len),
                             RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                             RD_KAFKA_V_TIMESTAMP(timestamp_ms), RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

/* RD_KAFKA_PARTITION_UA and RD_KAFKA_OFFSET_* are macros Swift does not import. */
static inline int32_t ww_partition_unassigned(void) { return RD_KAFKA_PARTITION_UA; }
static inline int64_t ww_offset_beginning(void) { return RD_KAFKA_OFFSET_BEGINNING; }
static inline int64_t ww_offset_end(void) { return RD_KAFKA_OFFSET_END; }
static inline int64_t ww_offset_stored(void) { return RD_KAFKA_OFFSET_STORED; }
static inline int64_t ww_offset_invalid(void) { return RD_KAFKA_OFFSET_INVALID; }

#endif
