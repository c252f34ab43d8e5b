/*
 * bench/http/hello_h2o.c - the HTTP library comparison (bench/README.md): h2o's
 * evloop answering every request with the bytes GET /check answers, one event
 * loop per thread on a SO_REUSEPORT listener. Usage: hello_h2o PORT THREADS
 */
#define H2O_USE_LIBUV 0
#include <h2o.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

static h2o_globalconf_t config;
static int port;

static int on_req(h2o_handler_t *self, h2o_req_t *req)
{
  (void)self;
  static h2o_generator_t generator = {NULL, NULL};
  static char body[] = "{\"decision\":\"allow\",\"revision\":1}";
  h2o_iovec_t buf = h2o_iovec_init(body, sizeof body - 1);
  req->res.status = 200;
  req->res.reason = "OK";
  h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_CONTENT_TYPE, NULL, H2O_STRLIT("application/json"));
  h2o_start_response(req, &generator);
  h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
  return 0;
}

static void on_accept(h2o_socket_t *listener, const char *err)
{
  h2o_socket_t *sock;
  if (err == NULL && (sock = h2o_evloop_socket_accept(listener)) != NULL)
    h2o_accept(listener->data, sock);
}

static void *run(void *arg)
{
  (void)arg;
  h2o_context_t ctx;
  h2o_accept_ctx_t accept_ctx = {.ctx = &ctx, .hosts = config.hosts};
  struct sockaddr_in addr = {
      .sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(0x7f000001)};
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0 ||
      bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 1024) != 0) {
    perror("hello_h2o: listen");
    exit(1);
  }
  h2o_context_init(&ctx, h2o_evloop_create(), &config);
  h2o_socket_t *sock = h2o_evloop_socket_create(ctx.loop, fd, H2O_SOCKET_FLAG_DONT_READ);
  sock->data = &accept_ctx;
  h2o_socket_read_start(sock, on_accept);
  while (h2o_evloop_run(ctx.loop, INT32_MAX) == 0)
    ;
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  port = atoi(argv[1]);
  int threads = atoi(argv[2]);
  signal(SIGPIPE, SIG_IGN);
  h2o_config_init(&config);
  h2o_hostconf_t *host = h2o_config_register_host(&config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
  h2o_pathconf_t *path = h2o_config_register_path(host, "/", 0);
  h2o_create_handler(path, sizeof(h2o_handler_t))->on_req = on_req;
  pthread_t t[64];
  for (int i = 0; i < threads && i < 64; i++)
    pthread_create(&t[i], NULL, run, NULL);
  for (int i = 0; i < threads && i < 64; i++)
    pthread_join(t[i], NULL);
  return 0;
}
