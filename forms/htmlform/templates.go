package htmlform

import "html/template"

// text holds the fixed strings of one language.
type text struct {
	Required     string
	Add          string
	Remove       string
	Item         string
	NoItems      string
	Choose       string
	Submit       string
	Between      string
	AtLeast      string
	AtMost       string
	Greater      string
	Less         string
	ItemsBetween string
	ItemsAtLeast string
	ItemsAtMost  string
}

var texts = map[string]text{
	"it": {
		Required:     "(obbligatorio)",
		Add:          "Aggiungi",
		Remove:       "Rimuovi",
		Item:         "Elemento",
		NoItems:      "Nessun elemento.",
		Choose:       "Scegli un'opzione",
		Submit:       "Invia",
		Between:      "Valore da %s a %s.",
		AtLeast:      "Valore minimo %s.",
		AtMost:       "Valore massimo %s.",
		Greater:      "Deve essere maggiore di %s.",
		Less:         "Deve essere minore di %s.",
		ItemsBetween: "Da %d a %d elementi.",
		ItemsAtLeast: "Almeno %d elementi.",
		ItemsAtMost:  "Al massimo %d elementi.",
	},
	"en": {
		Required:     "(required)",
		Add:          "Add",
		Remove:       "Remove",
		Item:         "Item",
		NoItems:      "No items.",
		Choose:       "Choose an option",
		Submit:       "Submit",
		Between:      "From %s to %s.",
		AtLeast:      "At least %s.",
		AtMost:       "At most %s.",
		Greater:      "Must be greater than %s.",
		Less:         "Must be less than %s.",
		ItemsBetween: "From %d to %d items.",
		ItemsAtLeast: "At least %d items.",
		ItemsAtMost:  "At most %d items.",
	},
}

// tmpl renders views. Every value goes through html/template's contextual
// escaping.
var tmpl = template.Must(template.New("htmlform").Option("missingkey=error").Parse(`
{{- define "root" -}}
{{- $t := .T -}}
{{- if .DefaultButton}}<button type="submit" name="_submit" value="1" hidden tabindex="-1">{{$t.Submit}}</button>{{end -}}
{{- template "errors" . -}}
{{- range .Children}}{{template "field" .}}{{end -}}
{{- end -}}

{{- define "label"}}{{.Label}}{{if .Required}} <span class="text-nowrap">{{.T.Required}}</span>{{end}}{{end -}}

{{- define "hint"}}{{if .Hint}}<small id="{{.HintID}}" class="form-text d-block">{{.Hint}}</small>{{end}}{{end -}}

{{- define "errors"}}{{if .Errors}}<div id="{{.ErrorID}}" class="invalid-feedback d-block">{{range $i, $e := .Errors}}{{if $i}} {{end}}<span class="d-block"{{with $e.Anchor}} id="{{.}}" tabindex="-1"{{end}}>{{$e.Text}}</span>{{end}}</div>{{end}}{{end -}}

{{- define "attrs"}} id="{{.ID}}" name="{{.Ptr}}"{{if .Required}} required aria-required="true"{{end}}{{if .Errors}} aria-invalid="true"{{end}}{{with .DescribedBy}} aria-describedby="{{.}}"{{end}}{{end -}}

{{- define "remove"}}{{with .Remove}}<div class="mt-2"><button type="submit" name="_remove" value="{{.Value}}" class="btn btn-outline-primary btn-sm" formnovalidate>{{.Text}}<span class="visually-hidden"> {{.Context}}</span></button></div>{{end}}{{end -}}

{{- define "field" -}}
{{- $v := . -}}{{- $t := .T -}}
{{- if eq $v.Kind "object" -}}
<fieldset id="{{$v.ID}}" class="mb-4"{{with $v.DescribedBy}} aria-describedby="{{.}}"{{end}}>
<legend>{{template "label" .}}</legend>
{{- template "hint" $v}}{{template "errors" $v}}
{{- range $v.Children}}{{template "field" .}}{{end}}
{{- template "remove" .}}
</fieldset>
{{- else if eq $v.Kind "array" -}}
<fieldset id="{{$v.ID}}" class="mb-4"{{with $v.DescribedBy}} aria-describedby="{{.}}"{{end}}>
<legend>{{template "label" .}}</legend>
{{- template "hint" $v}}{{template "errors" $v}}
<input type="hidden" name="_len{{$v.Ptr}}" value="{{$v.Count}}">
{{- with $v.Empty}}<p class="mb-2">{{.}}</p>{{end}}
{{- range $v.Children}}{{template "field" .}}{{end}}
{{- with $v.Add}}
<div class="mb-2"><button type="submit" name="_add" value="{{.Value}}" class="btn btn-outline-primary btn-sm" formnovalidate>{{.Text}}<span class="visually-hidden"> {{.Context}}</span></button></div>
{{- end}}
{{- template "remove" .}}
</fieldset>
{{- else if eq $v.Kind "radios" -}}
<fieldset class="mb-4">
<legend>{{template "label" .}}</legend>
{{- template "hint" $v}}{{template "errors" $v}}
{{- range $v.Options}}
<div class="form-check"><input type="radio" id="{{.ID}}" name="{{$v.Ptr}}" value="{{.Value}}"{{if .Checked}} checked{{end}}{{if $v.Errors}} class="is-invalid" aria-invalid="true"{{end}}{{if $v.Required}} required aria-required="true"{{end}}{{with $v.DescribedBy}} aria-describedby="{{.}}"{{end}}><label for="{{.ID}}">{{.Label}}</label></div>
{{- end}}
{{- template "remove" .}}
</fieldset>
{{- else if eq $v.Kind "checkbox" -}}
<div class="form-check mb-4"><input type="checkbox" value="true"{{if $v.Checked}} checked{{end}}{{if $v.Errors}} class="is-invalid"{{end}}{{template "attrs" $v}}><label for="{{$v.ID}}">{{template "label" .}}</label>
{{- template "hint" $v}}{{template "errors" $v}}{{template "remove" .}}</div>
{{- else if eq $v.Kind "select" -}}
<div class="mb-4"><label for="{{$v.ID}}" class="form-label fw-semibold">{{template "label" .}}</label>
<select class="form-select{{if $v.Errors}} is-invalid{{end}}"{{template "attrs" $v}}>
{{- if $v.Placeholder}}<option value="">{{$t.Choose}}</option>{{end}}
{{- range $v.Options}}<option value="{{.Value}}"{{if .Checked}} selected{{end}}>{{.Label}}</option>{{end -}}
</select>
{{- template "hint" $v}}{{template "errors" $v}}{{template "remove" .}}</div>
{{- else if eq $v.Kind "textarea" -}}
<div class="mb-4"><label for="{{$v.ID}}" class="form-label fw-semibold">{{template "label" .}}</label>
<textarea class="form-control{{if $v.Errors}} is-invalid{{end}}" rows="5"{{with $v.MinLength}} minlength="{{.}}"{{end}}{{with $v.MaxLength}} maxlength="{{.}}"{{end}}{{template "attrs" $v}}>
{{$v.Value}}</textarea>
{{- template "hint" $v}}{{template "errors" $v}}{{template "remove" .}}</div>
{{- else -}}
<div class="mb-4"><label for="{{$v.ID}}" class="form-label fw-semibold">{{template "label" .}}</label>
<input type="{{$v.InputType}}" class="form-control{{if $v.Errors}} is-invalid{{end}}" value="{{$v.Value}}"{{with $v.InputMode}} inputmode="{{.}}"{{end}}{{with $v.Autocomplete}} autocomplete="{{.}}"{{end}}{{with $v.MinLength}} minlength="{{.}}"{{end}}{{with $v.MaxLength}} maxlength="{{.}}"{{end}}{{template "attrs" $v}}>
{{- template "hint" $v}}{{template "errors" $v}}{{template "remove" .}}</div>
{{- end -}}
{{- end -}}
`))
