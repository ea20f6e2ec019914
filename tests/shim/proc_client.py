"""Process-shape scenarios for test_process.sh (run with Debian's python3).

usage: proc_client.py PORT CA BODY SCENARIO
  fork     one call, fork: the child makes two calls and returns normally,
           the parent waits and makes one more (4 records, 2 pids)
  _exit    the same, but child and parent end with os._exit
  exec     one call, then runs curl (exec'd child) for another
  threads  8 threads, one keep-alive connection each, 2 calls per thread
  term     one call, prints "done", then sleeps until SIGTERM (default action)
  spawn    one call; curl started with os.posix_spawn; a subprocess whose exec
           fails (its vfork child ends in _exit); one more call (3 records)
  shared   one keep-alive connection used from two threads in turn: each
           thread sends a request and the other reads its response (2 records)
"""
import http.client, os, socket, ssl, subprocess, sys, threading, time

port, ca, body_path, scenario = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
body = open(body_path, 'rb').read()
real = socket.getaddrinfo
socket.getaddrinfo = lambda h, p, *a, **k: (real('127.0.0.1', port, *a, **k)
                                           if h == 'api.openai.com' else real(h, p, *a, **k))
ctx = ssl.create_default_context(cafile=ca)


def call(conn=None):
    c = conn or http.client.HTTPSConnection('api.openai.com', 443, context=ctx)
    c.request('POST', '/v1/chat/completions', body=body,
              headers={'Content-Type': 'application/json'})
    r = c.getresponse()
    r.read()
    if conn is None:
        c.close()
    return r.status


if scenario in ('fork', '_exit'):
    call()
    pid = os.fork()
    if pid == 0:
        call(); call()
        if scenario == '_exit':
            os._exit(0)
        sys.exit(0)
    os.waitpid(pid, 0)
    call()
    if scenario == '_exit':
        os._exit(0)
elif scenario == 'exec':
    call()
    subprocess.run(['curl', '-sS', '--http1.1', '--cacert', ca, '--connect-to',
                    f'api.openai.com:443:127.0.0.1:{port}', '-H', 'Content-Type: application/json',
                    '--data-binary', '@' + body_path, '-o', '/dev/null',
                    'https://api.openai.com/v1/chat/completions'], check=True)
elif scenario == 'threads':
    def worker():
        c = http.client.HTTPSConnection('api.openai.com', 443, context=ctx)
        call(c); call(c)
        c.close()
    ts = [threading.Thread(target=worker) for _ in range(8)]
    [t.start() for t in ts]
    [t.join() for t in ts]
elif scenario == 'spawn':
    call()
    pid = os.posix_spawn('/usr/bin/curl', ['curl', '-sS', '--http1.1', '--cacert', ca,
                         '--connect-to', f'api.openai.com:443:127.0.0.1:{port}',
                         '-H', 'Content-Type: application/json', '--data-binary', '@' + body_path,
                         '-o', '/dev/null', 'https://api.openai.com/v1/chat/completions'],
                         dict(os.environ))
    os.waitpid(pid, 0)
    try:
        subprocess.run(['/nonexistent/program'])
    except FileNotFoundError:
        pass
    call()
elif scenario == 'shared':
    c = http.client.HTTPSConnection('api.openai.com', 443, context=ctx)
    c.connect()
    def send():
        c.request('POST', '/v1/chat/completions', body=body,
                  headers={'Content-Type': 'application/json'})
    def read():
        c.getresponse().read()
    for first, second in ((send, read), (send, read)):
        t = threading.Thread(target=first)
        t.start(); t.join()
        t = threading.Thread(target=second)
        t.start(); t.join()
    c.close()
elif scenario == 'term':
    call()
    print('done', flush=True)
    time.sleep(60)
