"""Reports: a check result rendered for people, and traces saved for replay.

- `text.render_trace_text(doc, console=None)` / `text.trace_text(doc) -> str`: the trace
  as text, one column per CPU (`render_check_text` is the same function);
- `html.render_check_html(check_doc) -> str`, `html.render_matrix_html(scenario, rows,
  columns, cells) -> str`: self-contained HTML pages;
- `trace_json.trace_to_dict(trace)`, `save_trace_file(path, doc)`,
  `load_trace_file(path)`: the versioned JSON trace format;
- `atomic.write_atomic(path, text)`: every report file is written atomically.

Submodules are imported on demand (the HTML renderer pulls in jinja2).
"""
