/* empty_preload: a shared library that does nothing. bench/run.sh preloads it
 * to measure what any LD_PRELOAD costs at start-up (finding, mapping and
 * relocating one more object), as a reference for the shim's figure. */
void llmops_bench_empty_preload(void);

void llmops_bench_empty_preload(void)
{
}
