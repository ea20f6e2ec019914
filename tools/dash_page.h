/* The dashboard page (dash_page.html), embedded at build time by
 * cmake/embed.cmake: one HTML file with its CSS and JS inline. Without data
 * it runs live against `llmops serve`'s JSON endpoints; `llmops report`
 * writes it with its data in place of LLM_DASH_PAGE_SLOT. */
#ifndef LLM_DASH_PAGE_H
#define LLM_DASH_PAGE_H

#include <stddef.h>

#define LLM_DASH_PAGE_SLOT "{\"mode\":\"live\"}"

extern const char llm_dash_page[];
extern const size_t llm_dash_page_len;

#endif
