// Package templates holds every text template the generators print through, embedded into the
// binary, so a generator's output can be read (and reviewed) as the file it becomes.
package templates

import (
	"embed"
	"text/template"
)

//go:embed *.tpl
var files embed.FS

// Parse returns the embedded template file name, parsed with funcs. It panics when the file is
// missing or does not parse: both are programming errors that every generator test meets first.
func Parse(name string, funcs template.FuncMap) *template.Template {
	return template.Must(template.New(name).Funcs(funcs).ParseFS(files, name))
}
