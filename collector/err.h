/* Error codes shared by every module: 0 is success, negative values are
 * either -errno or one of the project codes below (a reserved range, as LMDB
 * does), and llm_strerror() names both. Parsers also use LLM_EPARTIAL for
 * "feed me more bytes". */
#ifndef LLM_ERR_H
#define LLM_ERR_H

#define LLM_OK 0
#define LLM_ERR_BASE (-30500)
#define LLM_EPARTIAL (LLM_ERR_BASE - 1)  /* need more input */
#define LLM_EPARSE (LLM_ERR_BASE - 2)    /* malformed input */
#define LLM_ETOOBIG (LLM_ERR_BASE - 3)   /* a hard cap was reached */
#define LLM_EFULL (LLM_ERR_BASE - 4)     /* bounded queue full, item dropped */
#define LLM_ESTORE (LLM_ERR_BASE - 5)    /* LMDB failure */
#define LLM_ECORRUPT (LLM_ERR_BASE - 6)  /* the store or a record is corrupt */
#define LLM_ENOTFOUND (LLM_ERR_BASE - 7) /* no such key / entry */
#define LLM_EMAPFULL (LLM_ERR_BASE - 8)  /* LMDB map is full */
#define LLM_EINVAL (LLM_ERR_BASE - 9)    /* bad argument or configuration */
#define LLM_ENOMEM (LLM_ERR_BASE - 10)   /* allocation failed */
#define LLM_ENOCORE (LLM_ERR_BASE - 11)  /* collector core could not be loaded */
#define LLM_EUNSAFE (LLM_ERR_BASE - 12)  /* not ours alone: other users could read or swap it */
#define LLM_ERR_LAST (LLM_ERR_BASE - 13)

const char *llm_strerror(int rc);

#endif
