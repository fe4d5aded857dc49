package ui

import (
	"fmt"
	"html/template"
	"strings"
	"time"
)

// pageNames are the pages; each template file defines "content" and is
// parsed with layout.html.
var pageNames = []string{"signin", "error", "instances", "instance", "enable", "domains", "overview", "search", "profile", "profileform", "merge", "dlq"}

var funcs = template.FuncMap{
	"when": func(t time.Time) string {
		if t.IsZero() {
			return "—"
		}
		return t.UTC().Format("2006-01-02 15:04 UTC")
	},
	"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"dur": func(d time.Duration) string {
		d = d.Round(time.Second)
		if d < time.Minute {
			return fmt.Sprintf("%ds", int(d.Seconds()))
		}
		if d < time.Hour {
			return fmt.Sprintf("%dm %02ds", int(d.Minutes()), int(d.Seconds())%60)
		}
		return fmt.Sprintf("%dh %02dm", int(d.Hours()), int(d.Minutes())%60)
	},
	"join":        strings.Join,
	"label":       label,
	"displayName": displayName,
	"lower":       strings.ToLower,
	"trim":        strings.TrimSpace,
	"searchBy":    func() any { return searchBy },
	"short": func(s string, n int) string {
		if r := []rune(s); len(r) > n {
			return string(r[:n]) + "…"
		}
		return s
	},
	"add": func(a, b int) int { return a + b },
}

func parsePages() map[string]*template.Template {
	pages := map[string]*template.Template{}
	for _, name := range pageNames {
		pages[name] = template.Must(template.New(name).Funcs(funcs).ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return pages
}
