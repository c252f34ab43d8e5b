/*
 * cli/main.c - the urbac command: a sorted table of subcommands, the shared
 * option parser (getopt_long over the options each command accepts), and the
 * shared helpers for loading a tenant and printing errors.
 *
 * Depends on: the public API (include/urbac) only.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const cli_cmd commands[] = {
    {"activate", "db,tenant-id,actor,tenant,output,force,json,audit-key,witness,witness-syslog", "urbac activate WORKLOAD --tenant FILE [--force] [--output OUT] [--json]",
     "Switch a workload to unified roles (refused if nobody could manage authorization, unless --force)", cmd_activate},
    {"apply", "db,file,if-revision,actor,json,audit-key,witness,witness-syslog", "urbac apply -f FILE [--db URL] [--if-revision N] [--actor NAME] [--json]",
     "Make the stored tenant match a tenant file, in one audited transaction", cmd_apply},
    {"assignment", "db,tenant-id,principal,data-source,device-group,if-revision,actor,json,audit-key,witness,witness-syslog",
     "urbac assignment (add ROLE NAME --principal P... --data-source W... [--device-group DG...] | remove ROLE NAME) [--db URL]",
     "Add or remove a role assignment in a store", cmd_assignment},
    {"audit", "db,tenant-id,object,actor,since,json,audit-key,witness,witness-syslog", "urbac audit (log [--object ID] [--actor A] [--since TIME] | verify [--audit-key FILE] [--witness FILE]) [--db URL] [--tenant-id T] [--json]",
     "List the audit log, or verify it: its chain, MACs, witness, and that the stored rows are what it produced", cmd_audit},
    {"catalog", "json", "urbac catalog [--json]",
     "List workloads, permissions (names, ids, levels) and the legacy tables", cmd_catalog},
    {"check", "db,tenant-id,tenant,user,permission,workload,scope,queries,json,stats",
     "urbac check --tenant FILE (--user U --permission P --workload W [--scope S] | --queries TSV [--stats]) [--json]",
     "Answer one question (exit 0 allow, 1 deny) or a file of them, in order", cmd_check},
    {"deactivate", "db,tenant-id,actor,tenant,output,json,audit-key,witness,witness-syslog", "urbac deactivate WORKLOAD --tenant FILE [--output OUT] [--json]",
     "Switch a workload back to its legacy model (legacy configuration is always kept)", cmd_deactivate},
    {"device", "db,tenant-id,name,body,if-revision,actor,json,audit-key,witness,witness-syslog", "urbac device (add ID [--name N] [--body JSON] | remove ID) [--db URL]",
     "Add or remove a device in a store", cmd_device},
    {"device-group", "db,tenant-id,rank,body,principal,if-revision,actor,json,audit-key,witness,witness-syslog",
     "urbac device-group (add ID --rank N [--body JSON] | remove ID | move ID --rank N | grant ID --principal group:G... | revoke ID --principal group:G...) [--db URL]",
     "Manage device groups in a store: ranks, user access", cmd_device_group},
    {"directory-role", "db,tenant-id,principal,if-revision,actor,json,audit-key,witness,witness-syslog",
     "urbac directory-role (assign | unassign) ROLE --principal P... [--db URL]",
     "Give or take an Entra ID directory role from users or groups in a store", cmd_directory_role},
    {"dump", "db,tenant-id,output", "urbac dump [--db URL] [--tenant-id T] [--output OUT]",
     "Write a stored tenant back as a tenant file", cmd_dump},
    {"effective", "db,tenant-id,tenant,user,workload,json", "urbac effective --tenant FILE --user U [--workload W] [--json]",
     "List every grant a user holds, per workload and device group, with its source", cmd_effective},
    {"explain", "db,tenant-id,tenant,user,permission,workload,scope,json",
     "urbac explain --tenant FILE --user U --permission P --workload W [--scope S] [--json]",
     "Say why a question is allowed (the chain) or denied (what is missing)", cmd_explain},
    {"export", "db,tenant-id,tenant,format,output", "urbac export --tenant FILE [--format csv] [--output OUT]",
     "Write the unified roles as the Defender portal exports them: one CSV row per assignment", cmd_export},
    {"fmt", "check", "urbac fmt [--check] FILE",
     "Rewrite a tenant file in canonical form (--check: print it, exit 1 if it differs)", cmd_fmt},
    {"group", "db,tenant-id,name,principal,if-revision,actor,json,audit-key,witness,witness-syslog",
     "urbac group (add ID [--name N] | remove ID | add-member ID --principal P... | remove-member ID --principal P... | list) [--db URL]",
     "Manage groups and membership in a store", cmd_group},
    {"impact", "db,tenant-id,tenant,import,format,explain,output",
     "urbac impact WORKLOAD --tenant FILE [--import] [--format table|tsv|csv|json|html] [--explain] [--output OUT]",
     "Every change activating a workload would make: per user, permission and device group, before and after", cmd_impact},
    {"import", "db,tenant-id,actor,tenant,output,dry-run,json,audit-key,witness,witness-syslog", "urbac import WORKLOAD --tenant FILE [--output OUT] [--dry-run] [--json]",
     "Import a workload's legacy roles into unified roles through the seed's mapping tables", cmd_import},
    {"init", "db", "urbac init [--db URL]", "Create a store (or bring its schema up to date)", cmd_init},
    {"key", "db,tenant-id,user,name,key-scope,expires,actor,audit-key,witness,witness-syslog",
     "urbac key (create --user U [--name N] [--key-scope all|decisions] [--expires TIME|30d] | list | revoke ID) [--db URL] [--tenant-id T]",
     "Create (shown once), list or revoke API keys of a tenant in a store", cmd_key},
    {"migrate", "db", "urbac migrate [--db URL]", "Apply the store's numbered schema migrations", cmd_migrate},
    {"object", "db,tenant-id,body,file,if-revision,actor,json,audit-key,witness,witness-syslog",
     "urbac object (get KIND ID | list [KIND] | put KIND ID (--body JSON | -f FILE) | delete KIND ID) [--db URL]",
     "Read or write any object of a stored tenant as JSON (validated, audited)", cmd_object},
    {"plan", "db,file,json", "urbac plan -f FILE [--db URL] [--json]",
     "Show what 'urbac apply -f FILE' would create, change and delete", cmd_plan},
    {"role", "db,tenant-id,description,permission,if-revision,actor,json,audit-key,witness,witness-syslog",
     "urbac role (create NAME [--description D] [--permission P...] | update NAME --description D | delete NAME | list | show NAME | add-permission NAME --permission P... | remove-permission NAME --permission P...) [--db URL]",
     "Manage unified roles in a store", cmd_role},
    {"serve", "db,listen,threads,tls-cert,tls-key,preshared-key-file,oidc,access-log,routes,audit-key,witness,witness-syslog",
     "urbac serve [--db URL] [--listen HOST:PORT] [--threads N] [--tls-cert PEM --tls-key PEM] [--preshared-key-file FILE] [--oidc FILE] [--access-log FILE|-] [--audit-key FILE] [--witness FILE] [--witness-syslog] | urbac serve --routes",
     "Serve the store's tenants over HTTP: decisions and administration (docs/api.md)", cmd_serve},
    {"user", "db,tenant-id,name,if-revision,actor,json,audit-key,witness,witness-syslog",
     "urbac user (add ID [--name N] | remove ID | enable ID | disable ID | list) [--db URL]",
     "Manage users in a store", cmd_user},
    {"validate", "json", "urbac validate FILE [--json]",
     "Check a tenant file; print every error with file:line:column", cmd_validate},
    {"who-can", "db,tenant-id,tenant,permission,workload,scope,json",
     "urbac who-can --tenant FILE --permission P --workload W [--scope S] [--json]",
     "List every user allowed a permission on a workload and scope", cmd_who_can},
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const struct option all_options[] = {
    {"tenant", required_argument, NULL, 't'},    {"user", required_argument, NULL, 'u'},
    {"permission", required_argument, NULL, 'p'}, {"workload", required_argument, NULL, 'w'},
    {"scope", required_argument, NULL, 's'},     {"queries", required_argument, NULL, 'q'},
    {"json", no_argument, NULL, 'j'},
    {"check", no_argument, NULL, 'c'},           {"help", no_argument, NULL, 'h'},
    {"stats", no_argument, NULL, 'S'},           {"output", required_argument, NULL, 'o'},
    {"format", required_argument, NULL, 1008},    {"dry-run", no_argument, NULL, 'n'},
    {"import", no_argument, NULL, 'i'},          {"explain", no_argument, NULL, 'e'},
    {"force", no_argument, NULL, 1001},          {"db", required_argument, NULL, 1002},
    {"tenant-id", required_argument, NULL, 1003}, {"file", required_argument, NULL, 'f'},
    {"if-revision", required_argument, NULL, 1004}, {"actor", required_argument, NULL, 1005},
    {"object", required_argument, NULL, 1006},   {"since", required_argument, NULL, 1007},
    {"body", required_argument, NULL, 1009},     {"description", required_argument, NULL, 1010},
    {"name", required_argument, NULL, 1011},     {"principal", required_argument, NULL, 1012},
    {"data-source", required_argument, NULL, 1013}, {"device-group", required_argument, NULL, 1014},
    {"rank", required_argument, NULL, 1015},
    {"listen", required_argument, NULL, 1016},   {"threads", required_argument, NULL, 1017},
    {"tls-cert", required_argument, NULL, 1018}, {"tls-key", required_argument, NULL, 1019},
    {"preshared-key-file", required_argument, NULL, 1020}, {"oidc", required_argument, NULL, 1021},
    {"access-log", required_argument, NULL, 1022}, {"key-scope", required_argument, NULL, 1023},
    {"expires", required_argument, NULL, 1024},  {"routes", no_argument, NULL, 1025},
    {"audit-key", required_argument, NULL, 1026}, {"witness", required_argument, NULL, 1027},
    {"witness-syslog", no_argument, NULL, 1028},
};
#define NOPTIONS (sizeof all_options / sizeof all_options[0])

void cli_error(const char *fmt, ...)
{
  va_list ap;
  fputs("urbac: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
}

static bool accepts(const cli_cmd *cmd, const char *opt)
{
  size_t n = strlen(opt);
  for (const char *p = cmd->options; (p = strstr(p, opt)) != NULL; p += n)
    if ((p == cmd->options || p[-1] == ',') && (p[n] == ',' || p[n] == '\0'))
      return true;
  return strcmp(opt, "help") == 0;
}

void cli_usage(const cli_cmd *cmd, FILE *out)
{
  fprintf(out, "usage: %s\n\n%s.\n", cmd->usage, cmd->summary);
}

/* A whole number for a numeric flag, or a message naming the flag. */
static bool whole_number(const char *flag, const char *v)
{
  size_t n = strspn(v, "0123456789");
  if (n > 0 && n < 20 && v[n] == '\0')
    return true;
  cli_error("--%s takes a whole number, not '%s'", flag, v);
  return false;
}

/* The server's options (serve, key); false when `c` is none of them or bad. */
static bool server_option(int c, cli_opts *o, bool *bad)
{
  switch (c) {
  case 1016: o->listen = optarg; break;
  case 1017:
    *bad = !whole_number("threads", optarg);
    o->threads = optarg;
    return !*bad;
  case 1018: o->tls_cert = optarg; break;
  case 1019: o->tls_key = optarg; break;
  case 1020: o->preshared_key_file = optarg; break;
  case 1021: o->oidc = optarg; break;
  case 1022: o->access_log = optarg; break;
  case 1023: o->key_scope = optarg; break;
  case 1024: o->expires = optarg; break;
  case 1025: o->routes = true; break;
  case 1026: o->audit_key = optarg; break;
  case 1027: o->witness = optarg; break;
  case 1028: o->witness_syslog = true; break;
  default: return false;
  }
  return true;
}

bool cli_parse(const cli_cmd *cmd, int argc, char **argv, cli_opts *o)
{
  struct option opts[NOPTIONS + 1];
  size_t n = 0;
  for (size_t i = 0; i < NOPTIONS; i++)
    if (accepts(cmd, all_options[i].name))
      opts[n++] = all_options[i];
  memset(&opts[n], 0, sizeof opts[n]);
  memset(o, 0, sizeof *o);
  optind = 1;
  opterr = 0;
  for (;;) {
    const char *shorts = accepts(cmd, "output") ? "o:" : accepts(cmd, "file") ? "f:" : "";
  int c = getopt_long(argc, argv, shorts, opts, NULL);
    if (c == -1)
      break;
    bool bad = false;
    if (server_option(c, o, &bad))
      continue;
    if (bad)
      return false;
    switch (c) {
    case 't': o->tenant = optarg; break;
    case 'u': o->user = optarg; break;
    case 'p':
      o->permission = optarg;
      if (o->npermissions < 64)
        o->permissions[o->npermissions++] = optarg;
      break;
    case 'w': o->workload = optarg; break;
    case 's': o->scope = optarg; break;
    case 'q': o->queries = optarg; break;
    case 'j': o->json = true; break;
    case 'c': o->check = true; break;
    case 'h': o->help = true; break;
    case 'S': o->stats = true; break;
    case 'o': o->output = optarg; break;
    case 'f': o->file = optarg; break;
    case 1008: o->format = optarg; break;
    case 1009: o->body = optarg; break;
    case 1010: o->description = optarg; break;
    case 1011: o->name = optarg; break;
    case 1012: if (o->nprincipals < 64) o->principals[o->nprincipals++] = optarg; break;
    case 1013: if (o->nsources < 8) o->sources[o->nsources++] = optarg; break;
    case 1014: if (o->ndevice_groups < 64) o->device_groups[o->ndevice_groups++] = optarg; break;
    case 1015:
      if (!whole_number("rank", optarg))
        return false;
      o->rank = optarg;
      break;
    case 'n': o->dry_run = true; break;
    case 'i': o->import = true; break;
    case 'e': o->explain = true; break;
    case 1001: o->force = true; break;
    case 1002: o->db = optarg; break;
    case 1003: o->tenant_id = optarg; break;
    case 1004:
      if (!whole_number("if-revision", optarg))
        return false;
      o->if_revision = optarg;
      break;
    case 1005: o->actor = optarg; break;
    case 1006: o->object = optarg; break;
    case 1007: o->since = optarg; break;
    default:
      cli_error("%s: unknown or incomplete option '%s'", cmd->name, argv[optind - 1 > 0 ? optind - 1 : 0]);
      cli_usage(cmd, stderr);
      return false;
    }
  }
  o->nargs = argc - optind;
  o->args = argv + optind;
  return true;
}

bool cli_need(const char *value, const char *name, const cli_cmd *cmd)
{
  (void)cmd;
  if (value)
    return true;
  cli_error("missing --%s (see --help)", name);
  return false;
}

void cli_print_diag(const urbac_diag *d)
{
  char buf[2048];
  size_t n = urbac_diag_count(d);
  for (size_t i = 0; i < n; i++) {
    urbac_diag_format(d, i, buf, sizeof buf);
    fprintf(stderr, "urbac: %s\n", buf);
    if (!urbac_diag_get(d, i))
      break;
  }
}

bool cli_load(const cli_opts *o, urbac_model **m, urbac_snapshot **s)
{
  if (o->db) {
    urbac_store *st = cli_open_store(o);
    bool ok = st && cli_load_store(o, st, m, NULL);
    urbac_store_close(st);
    *s = NULL;
    if (ok && urbac_snapshot_compile(*m, s, NULL) != URBAC_OK) {
      cli_error("out of memory");
      ok = false;
    }
    return ok;
  }
  urbac_diag *d = urbac_diag_new();
  const char *path = o->tenant ? o->tenant : getenv("URBAC_TENANT");
  bool ok = false;
  *m = NULL;
  *s = NULL;
  if (!d)
    return false;
  if (!path) {
    cli_error("missing --tenant FILE (or $URBAC_TENANT)");
  } else if (urbac_tenant_load_file(path, m, d) == URBAC_OK) {
    urbac_err err = urbac_snapshot_compile(*m, s, d);
    ok = err == URBAC_OK;
    if (!ok && !urbac_diag_count(d))
      cli_error("%s: %s", path, urbac_strerror(err));
  }
  cli_print_diag(d);
  urbac_diag_free(d);
  return ok;
}

static void help(FILE *out)
{
  fprintf(out, "urbac %s - role-based access control for Microsoft 365 Defender, self-hosted\n\n"
               "usage: urbac COMMAND [OPTIONS]\n\ncommands:\n", URBAC_VERSION);
  for (size_t i = 0; i < NCOMMANDS; i++)
    fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
  fprintf(out, "\n'urbac COMMAND --help' for a command's options. Exit status: 0 success or allow,\n"
               "1 deny (or fmt --check found a difference), 2 bad usage or input.\n");
}

int main(int argc, char **argv)
{
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "-h") == 0) {
    help(argc < 2 ? stderr : stdout);
    return argc < 2 ? EXIT_USAGE : 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("urbac %s\n", URBAC_VERSION);
    return 0;
  }
  for (size_t i = 0; i < NCOMMANDS; i++) {
    if (strcmp(argv[1], commands[i].name) != 0)
      continue;
    cli_opts o;
    if (!cli_parse(&commands[i], argc - 1, argv + 1, &o))
      return EXIT_USAGE;
    if (o.help) {
      cli_usage(&commands[i], stdout);
      return 0;
    }
    return commands[i].run(&o);
  }
  cli_error("unknown command '%s' (see 'urbac --help')", argv[1]);
  return EXIT_USAGE;
}
