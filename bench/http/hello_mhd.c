/*
 * bench/http/hello_mhd.c - the HTTP library comparison (bench/README.md):
 * libmicrohttpd with epoll and a thread pool (urbac serve adds its own accept
 * thread, bench/README.md), answering every request with the bytes GET /check
 * answers.
 * Usage: hello_mhd PORT THREADS
 */
#include <microhttpd.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

static enum MHD_Result on_req(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                              const char *version, const char *upload, size_t *upload_size, void **con_cls)
{
  (void)cls, (void)url, (void)method, (void)version, (void)upload;
  static int first;
  if (!*con_cls) { /* the usual pattern, as urbac's: answer once the request is complete */
    *con_cls = &first;
    return MHD_YES;
  }
  if (*upload_size) {
    *upload_size = 0;
    return MHD_YES;
  }
  static char body[] = "{\"decision\":\"allow\",\"revision\":1}";
  struct MHD_Response *r = MHD_create_response_from_buffer(sizeof body - 1, body, MHD_RESPMEM_PERSISTENT);
  MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
  enum MHD_Result ok = MHD_queue_response(c, 200, r);
  MHD_destroy_response(r);
  return ok;
}

int main(int argc, char **argv)
{
  if (argc != 3)
    return 2;
  signal(SIGPIPE, SIG_IGN);
  struct MHD_Daemon *d =
      MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, (uint16_t)atoi(argv[1]),
                       NULL, NULL, on_req, NULL, MHD_OPTION_THREAD_POOL_SIZE, (unsigned)atoi(argv[2]),
                       MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)16384, MHD_OPTION_END);
  if (!d)
    return 1;
  pause();
  MHD_stop_daemon(d);
  return 0;
}
