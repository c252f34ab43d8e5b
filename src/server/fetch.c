/*
 * server/fetch.c - the server's one outgoing request: an HTTPS GET of a small
 * JSON document (an OpenID provider's discovery document or its JWKS), or the
 * POST of a form that gets one (the portal's OIDC sign-in exchanging its
 * authorization code at the token endpoint, signin.c), through libcurl. Everything about it is bounded: HTTPS
 * only (no other scheme, no redirect), a connect and a total timeout, and a largest body (refused as it
 * arrives, and before when the provider announces its length). The peer's
 * certificate is checked against the system's CAs, or a CA file of the
 * operator's (a private PKI, or a test CA).
 *
 * Depends on: the public API, libcurl.
 */
#include <curl/curl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "server/server.h"

typedef struct body {
  char *data;
  size_t len, max;
  bool too_big;
} body;

static size_t on_data(char *ptr, size_t size, size_t n, void *ctx)
{
  body *b = ctx;
  size_t add = size * n;
  if (add > b->max - b->len) {
    b->too_big = true;
    return 0; /* libcurl stops with CURLE_WRITE_ERROR */
  }
  char *grown = realloc(b->data, b->len + add + 1);
  if (!grown)
    return 0;
  memcpy(grown + b->len, ptr, add);
  b->data = grown;
  b->len += add;
  b->data[b->len] = '\0';
  return add;
}

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_ready = CURLE_FAILED_INIT;
static void curl_start(void) { curl_ready = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* Sets the bounds and the trust; false when libcurl refuses one of them. */
static bool configure(CURL *c, const char *url, const srv_fetch_opts *o, body *b, char *errbuf)
{
  long timeout_ms = (long)o->timeout_s * 1000;
  return curl_easy_setopt(c, CURLOPT_URL, url) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 5000 ? timeout_ms : 5000L) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)o->max_bytes) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_WRITEDATA, b) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_USERAGENT, "urbac/" URBAC_VERSION_STRING) == CURLE_OK &&
         curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK &&
         (!o->ca_file || curl_easy_setopt(c, CURLOPT_CAINFO, o->ca_file) == CURLE_OK) &&
         (!o->post || curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, o->post) == CURLE_OK);
}

bool srv_fetch(const char *url, const srv_fetch_opts *o, char **out, size_t *len, char *why, size_t why_size)
{
  char errbuf[CURL_ERROR_SIZE] = "";
  body b = {.max = o->max_bytes};
  long status = 0;
  bool ok = false;
  CURL *c = NULL;
  const char *verb = o->post ? "POST" : "GET";
  pthread_once(&curl_once, curl_start);
  if (strncmp(url, "https://", 8) != 0) {
    snprintf(why, why_size, "%s %s: only https:// URLs are fetched", verb, url);
    goto out;
  }
  if (curl_ready != CURLE_OK || !(c = curl_easy_init()) || !configure(c, url, o, &b, errbuf)) {
    snprintf(why, why_size, "%s %s: cannot set up libcurl", verb, url);
    goto out;
  }
  CURLcode rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  if (b.too_big || rc == CURLE_FILESIZE_EXCEEDED)
    snprintf(why, why_size, "%s %s: the response is larger than %zu bytes", verb, url, o->max_bytes);
  else if (rc != CURLE_OK)
    snprintf(why, why_size, "%s %s: %s", verb, url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
  else if (status != 200)
    snprintf(why, why_size, "%s %s: HTTP status %ld%s%.200s", verb, url, status, b.data ? ": " : "",
             b.data ? b.data : "");
  else if (!b.data)
    snprintf(why, why_size, "%s %s: an empty response", verb, url);
  else {
    *out = b.data;
    *len = b.len;
    b.data = NULL;
    ok = true;
  }
out:
  curl_easy_cleanup(c);
  free(b.data);
  return ok;
}
