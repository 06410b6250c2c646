/**
 * A self-contained API reference: it reads /v1/openapi.json and lists every operation with its schema.
 * No CDN, so it works on a closed network.
 */
export const docsPage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Orgkit API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:960px;margin:2rem auto;padding:0 1rem;color:#1d2433}
h1{margin-bottom:.2rem} .op{border:1px solid #dde2ea;border-radius:8px;margin:.6rem 0;padding:.2rem .8rem}
summary{cursor:pointer;padding:.4rem 0} .m{display:inline-block;width:4.5rem;font-weight:700;text-transform:uppercase}
.get{color:#1a7f37}.post{color:#0969da}.patch{color:#9a6700}.put{color:#8250df}.delete{color:#cf222e}
pre{background:#f6f8fa;padding:.6rem;border-radius:6px;overflow:auto;font-size:13px} h2{margin-top:2rem}
</style></head><body>
<h1>Orgkit API</h1><p>Raw document: <a href="/v1/openapi.json">/v1/openapi.json</a>. Authenticate with <code>Authorization: Bearer &lt;token&gt;</code>.</p>
<div id="ops">Loading…</div>
<script>
fetch('/v1/openapi.json').then(r => r.json()).then(doc => {
  const byTag = {}
  for (const [path, ops] of Object.entries(doc.paths)) for (const [method, op] of Object.entries(ops)) {
    const tag = (op.tags || ['Other'])[0]; (byTag[tag] = byTag[tag] || []).push({ path, method, op })
  }
  const esc = s => String(s).replace(/[&<>]/g, c => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;' }[c]))
  document.getElementById('ops').innerHTML = Object.entries(byTag).map(([tag, ops]) => '<h2>' + esc(tag) + '</h2>' +
    ops.map(({ path, method, op }) => '<details class="op"><summary><span class="m ' + method + '">' + method + '</span><code>' + esc(path) +
      '</code> — ' + esc(op.summary || '') + '</summary><p>' + esc(op.description || '') +
      ' <code>' + esc(op.operationId || '') + '</code></p><pre>' + esc(JSON.stringify({ parameters: op.parameters, requestBody: op.requestBody, responses: op.responses }, null, 2)) +
      '</pre></details>').join('')).join('')
})
</script></body></html>`
