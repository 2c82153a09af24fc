// sg.c: the narrow ABI between Shipgate's Go engine (plugins/code/treesitter)
// and tree-sitter compiled to WASI. All integers are little-endian uint32.
//
//   sg_alloc(n) -> ptr            memory for the host to write into
//   sg_free(ptr)                  frees sg_alloc memory and result buffers
//   sg_query_new(lang, q, n) -> handle (0 on error: see sg_error_type/offset)
//   sg_query_info(handle) -> ptr  buffer: [nbytes, patterns, captures, strings,
//                                  per capture: len + bytes (padded to 4),
//                                  per string:  len + bytes (padded to 4),
//                                  per pattern: nsteps, (type, value_id)...]
//   sg_query_delete(handle)
//   sg_run(handle, src, n, max_captures) -> ptr  buffer: [nbytes, status,
//                                  flags, nmatches, per match: pattern,
//                                  ncaptures, per capture: id, start_byte,
//                                  end_byte, start_row, start_col, end_row,
//                                  end_col]
//
// status: 0 ok, 1 interrupted by the host, 2 more than max_captures captures.
// flags: bit 0 the tree has syntax errors, bit 1 the query cursor's match
// limit was exceeded (some matches may be missing).
//
// Interruption: every ~100 parser or query-cursor operations tree-sitter
// calls a progress callback, which asks the host import
// shipgate_ts.interrupted(); a non-zero answer cancels the operation.

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tree_sitter/api.h"

__attribute__((import_module("shipgate_ts"), import_name("interrupted")))
extern uint32_t host_interrupted(void);

const TSLanguage *tree_sitter_python(void);
const TSLanguage *tree_sitter_javascript(void);
const TSLanguage *tree_sitter_typescript(void);
const TSLanguage *tree_sitter_tsx(void);
const TSLanguage *tree_sitter_java(void);

enum { LANG_PYTHON = 1, LANG_JAVASCRIPT, LANG_TYPESCRIPT, LANG_TSX, LANG_JAVA, LANG_COUNT };

static const TSLanguage *language(uint32_t lang) {
  switch (lang) {
  case LANG_PYTHON: return tree_sitter_python();
  case LANG_JAVASCRIPT: return tree_sitter_javascript();
  case LANG_TYPESCRIPT: return tree_sitter_typescript();
  case LANG_TSX: return tree_sitter_tsx();
  case LANG_JAVA: return tree_sitter_java();
  }
  return NULL;
}

typedef struct {
  TSQuery *query;
  uint32_t lang;
} query_slot;

static TSParser *parsers[LANG_COUNT];
static TSQueryCursor *cursor;
static uint32_t err_type, err_offset;

// buf is a growable uint32 buffer.
typedef struct {
  uint32_t *w;
  uint32_t len, cap;
  int failed;
} buf;

static void put(buf *b, uint32_t v) {
  if (b->failed) return;
  if (b->len == b->cap) {
    uint32_t ncap = b->cap ? b->cap * 2 : 256;
    uint32_t *nw = realloc(b->w, ncap * sizeof(uint32_t));
    if (!nw) {
      b->failed = 1;
      return;
    }
    b->w = nw;
    b->cap = ncap;
  }
  b->w[b->len++] = v;
}

static void put_str(buf *b, const char *s, uint32_t n) {
  put(b, n);
  for (uint32_t i = 0; i < n; i += 4) {
    uint32_t v = 0;
    for (uint32_t j = 0; j < 4 && i + j < n; j++) v |= (uint32_t)(uint8_t)s[i + j] << (8 * j);
    put(b, v);
  }
}

static uint32_t finish(buf *b) {
  if (b->failed || b->len == 0) {
    free(b->w);
    return 0;
  }
  b->w[0] = b->len * 4;
  return (uint32_t)(uintptr_t)b->w;
}

__attribute__((export_name("sg_alloc"))) uint32_t sg_alloc(uint32_t n) {
  return (uint32_t)(uintptr_t)malloc(n ? n : 1);
}

__attribute__((export_name("sg_free"))) void sg_free(uint32_t p) { free((void *)(uintptr_t)p); }

__attribute__((export_name("sg_error_type"))) uint32_t sg_error_type(void) { return err_type; }

__attribute__((export_name("sg_error_offset"))) uint32_t sg_error_offset(void) { return err_offset; }

__attribute__((export_name("sg_query_new"))) uint32_t sg_query_new(uint32_t lang, uint32_t q, uint32_t n) {
  err_type = 0;
  err_offset = 0;
  const TSLanguage *l = language(lang);
  if (!l) {
    err_type = TSQueryErrorLanguage;
    return 0;
  }
  TSQueryError et = TSQueryErrorNone;
  uint32_t off = 0;
  TSQuery *query = ts_query_new(l, (const char *)(uintptr_t)q, n, &off, &et);
  if (!query) {
    err_type = et;
    err_offset = off;
    return 0;
  }
  query_slot *s = malloc(sizeof *s);
  if (!s) {
    ts_query_delete(query);
    err_type = 100;
    return 0;
  }
  s->query = query;
  s->lang = lang;
  return (uint32_t)(uintptr_t)s;
}

__attribute__((export_name("sg_query_delete"))) void sg_query_delete(uint32_t h) {
  query_slot *s = (query_slot *)(uintptr_t)h;
  if (!s) return;
  ts_query_delete(s->query);
  free(s);
}

__attribute__((export_name("sg_query_info"))) uint32_t sg_query_info(uint32_t h) {
  query_slot *s = (query_slot *)(uintptr_t)h;
  if (!s) return 0;
  TSQuery *q = s->query;
  buf b = {0};
  put(&b, 0);
  uint32_t np = ts_query_pattern_count(q), nc = ts_query_capture_count(q), ns = ts_query_string_count(q);
  put(&b, np);
  put(&b, nc);
  put(&b, ns);
  for (uint32_t i = 0; i < nc; i++) {
    uint32_t len = 0;
    const char *name = ts_query_capture_name_for_id(q, i, &len);
    put_str(&b, name, len);
  }
  for (uint32_t i = 0; i < ns; i++) {
    uint32_t len = 0;
    const char *v = ts_query_string_value_for_id(q, i, &len);
    put_str(&b, v, len);
  }
  for (uint32_t i = 0; i < np; i++) {
    uint32_t nsteps = 0;
    const TSQueryPredicateStep *st = ts_query_predicates_for_pattern(q, i, &nsteps);
    put(&b, nsteps);
    for (uint32_t j = 0; j < nsteps; j++) {
      put(&b, st[j].type);
      put(&b, st[j].value_id);
    }
  }
  return finish(&b);
}

static bool parse_progress(TSParseState *st) {
  (void)st;
  return host_interrupted() != 0;
}

static bool query_progress(TSQueryCursorState *st) {
  (void)st;
  return host_interrupted() != 0;
}

typedef struct {
  const char *src;
  uint32_t len;
} input;

static const char *read_input(void *payload, uint32_t byte, TSPoint pos, uint32_t *n) {
  (void)pos;
  input *in = payload;
  if (byte >= in->len) {
    *n = 0;
    return "";
  }
  *n = in->len - byte;
  return in->src + byte;
}

__attribute__((export_name("sg_run"))) uint32_t sg_run(uint32_t h, uint32_t src, uint32_t n, uint32_t max_captures) {
  query_slot *s = (query_slot *)(uintptr_t)h;
  if (!s) return 0;
  if (!parsers[s->lang]) {
    parsers[s->lang] = ts_parser_new();
    if (!parsers[s->lang] || !ts_parser_set_language(parsers[s->lang], language(s->lang))) return 0;
  }
  if (!cursor) {
    cursor = ts_query_cursor_new();
    ts_query_cursor_set_match_limit(cursor, 4096);
  }
  TSParser *p = parsers[s->lang];
  input in = {(const char *)(uintptr_t)src, n};
  TSInput ti = {&in, read_input, TSInputEncodingUTF8, NULL};
  TSParseOptions po = {NULL, parse_progress};
  buf b = {0};
  put(&b, 0);
  TSTree *tree = ts_parser_parse_with_options(p, NULL, ti, po);
  if (!tree) {
    ts_parser_reset(p);
    put(&b, 1);
    put(&b, 0);
    put(&b, 0);
    return finish(&b);
  }
  TSNode root = ts_tree_root_node(tree);
  put(&b, 0);                     // status, patched below
  put(&b, ts_node_has_error(root)); // flags, patched below
  put(&b, 0);                     // nmatches, patched below
  TSQueryCursorOptions qo = {NULL, query_progress};
  ts_query_cursor_exec_with_options(cursor, s->query, root, &qo);
  uint32_t status = 0, matches = 0, captures = 0;
  TSQueryMatch m;
  while (ts_query_cursor_next_match(cursor, &m)) {
    captures += m.capture_count;
    if (captures > max_captures) {
      status = 2;
      break;
    }
    matches++;
    put(&b, m.pattern_index);
    put(&b, m.capture_count);
    for (uint16_t i = 0; i < m.capture_count; i++) {
      TSNode nd = m.captures[i].node;
      TSPoint sp = ts_node_start_point(nd), ep = ts_node_end_point(nd);
      put(&b, m.captures[i].index);
      put(&b, ts_node_start_byte(nd));
      put(&b, ts_node_end_byte(nd));
      put(&b, sp.row);
      put(&b, sp.column);
      put(&b, ep.row);
      put(&b, ep.column);
    }
  }
  if (status == 0 && host_interrupted()) status = 1;
  uint32_t flags = ts_node_has_error(root) ? 1 : 0;
  if (ts_query_cursor_did_exceed_match_limit(cursor)) flags |= 2;
  ts_tree_delete(tree);
  if (b.failed) {
    free(b.w);
    return 0;
  }
  b.w[1] = status;
  b.w[2] = flags;
  b.w[3] = matches;
  return finish(&b);
}
