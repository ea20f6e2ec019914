/* Linked into every cmocka suite: LLMOPS_TEST_FILTER picks the cases to run
 * and LLMOPS_TEST_SKIP the cases to leave out (cmocka patterns, '*' and '?'
 * wildcards), e.g. LLMOPS_TEST_FILTER=test_keep_alive build/tests/unit/test_conn
 * tests/corpus. Set before main, so no suite's main has to know. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

__attribute__((constructor)) static void llm_test_filter(void)
{
    const char *run = getenv("LLMOPS_TEST_FILTER"), *skip = getenv("LLMOPS_TEST_SKIP");

    if (run && *run)
        cmocka_set_test_filter(run);
    if (skip && *skip)
        cmocka_set_skip_filter(skip);
}
