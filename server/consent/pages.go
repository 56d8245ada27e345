package consent

import (
	"bytes"
	"html/template"

	"github.com/gin-gonic/gin"
)

// resultPage is the small HTML page a browser sees after the OAuth callback.
type resultPage struct {
	Success bool
	Title   string
	App     string
	Account string
	Message string
	Home    string
}

// resultTemplate escapes every value; no script, no external assets.
const resultTemplate = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} – jitaccess</title>
<style>
body{font-family:system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1b1b1b;line-height:1.5}
.ok{color:#0a6b2d}.fail{color:#a4000f}.box{border:1px solid #ccc;border-radius:8px;padding:1.5rem}
</style></head>
<body><main class="box" role="main">
<h1 class="{{if .Success}}ok{{else}}fail{{end}}">{{if .Success}}&#10004; {{else}}&#10006; {{end}}{{.Title}}</h1>
{{if .App}}<p>Application: <strong>{{.App}}</strong></p>{{end}}
{{if .Account}}<p>Authorized by: <strong>{{.Account}}</strong></p>{{end}}
<p>{{.Message}}</p>
{{if .Home}}<p><a href="{{.Home}}">Back to jitaccess</a></p>{{end}}
</main></body></html>`

var resultTmpl = template.Must(template.New("result").Parse(resultTemplate))

func (s *Callback) resultPage(c *gin.Context, status int, p resultPage) {
	if p.Home == "" {
		p.Home = s.Deps.PublicURL
	}
	var buf bytes.Buffer
	if err := resultTmpl.Execute(&buf, p); err != nil {
		s.Internal(c, err)
		return
	}
	c.Header("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Content-Type-Options", "nosniff")
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
}
