#!/usr/bin/python3
"""gen_corpus.py SRC DST: DST becomes a corpus directory for llm_server.py
holding every vector of SRC (symlinked) plus the synthetic ones the fault
tests need:

  synth_openai_stream_20k   an OpenAI chat completion stream of 20,000
                            content events, a finish event and a usage event
                            (prompt 11, completion 20000), then [DONE]
"""
import json
import os
import sys

EVENTS = 20000


def stream_20k():
    head = {"id": "chatcmpl-synth20k", "object": "chat.completion.chunk", "created": 1764500000,
            "model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_synth"}
    ev = []
    for i in range(EVENTS):
        c = dict(head, choices=[{"index": 0, "delta": {"content": "t%05d " % i} if i else
                                 {"role": "assistant", "content": "t00000 "},
                                 "logprobs": None, "finish_reason": None}], usage=None)
        ev.append(c)
    ev.append(dict(head, choices=[{"index": 0, "delta": {}, "logprobs": None,
                                   "finish_reason": "stop"}], usage=None))
    ev.append(dict(head, choices=[], usage={"prompt_tokens": 11, "completion_tokens": EVENTS,
                                            "total_tokens": 11 + EVENTS}))
    body = "".join("data: %s\n\n" % json.dumps(e, separators=(",", ":")) for e in ev)
    body += "data: [DONE]\n\n"
    req = {"model": "gpt-4o-mini", "stream": True, "stream_options": {"include_usage": True},
           "messages": [{"role": "user", "content": "Count to twenty thousand."}]}
    return {
        "source": {"synthetic": "tests/faults/gen_corpus.py"},
        "provider": "openai", "api": "chat.completions", "method": "POST",
        "url": "https://api.openai.com/v1/chat/completions",
        "request_body": json.dumps(req), "status": 200,
        "response_headers": {"Content-Type": "text/event-stream; charset=utf-8"},
        "response_body": body,
        "expected": {"request_model": "gpt-4o-mini", "response_model": "gpt-4o-mini-2024-07-18",
                     "model": "gpt-4o-mini-2024-07-18", "input_tokens": 11,
                     "output_tokens": EVENTS, "cached_input_tokens": None,
                     "cache_creation_input_tokens": None, "reasoning_tokens": None,
                     "total_tokens": 11 + EVENTS, "finish_reason": "stop", "stream": True,
                     "error": None},
    }


def main():
    src, dst = sys.argv[1], sys.argv[2]
    os.makedirs(dst, exist_ok=True)
    for f in sorted(os.listdir(src)):
        if f.endswith(".json") and not os.path.exists(os.path.join(dst, f)):
            os.symlink(os.path.abspath(os.path.join(src, f)), os.path.join(dst, f))
    with open(os.path.join(dst, "synth_openai_stream_20k.json"), "w") as f:
        json.dump(stream_20k(), f)


if __name__ == "__main__":
    main()
