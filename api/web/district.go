package web

import (
	"encoding/json"
	"html/template"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/district"
)

// districtView is the district the page shows in its header and footer:
// the signed-in user's, or for an anonymous visitor the one serving the
// request's host, else the default district (store.API.DistrictBrand).
// Everything comes from the district's file (deploy/districts), applied
// with `sportello district apply`.
type districtView struct {
	ID        string
	Name      string
	ShortName string
	About     string
	Logo      template.HTML // inline SVG, checked when the file was applied (no scripts, handlers or links)
	LogoAlt   string
	Primary   template.CSS // "#rrggbb", checked against white text
	Dark      template.CSS
	Contacts  contactsView
}

type contactsView struct {
	Address, Phone, Email, PEC, Hours, Website string
}

// district loads the page's district; nil (the layout's generic texts)
// when none can be read.
func (s *Site) district(c *gin.Context, lang, userDistrict string) *districtView {
	b, err := s.Store.API().DistrictBrand(c.Request.Context(), userDistrict, httpx.Host(c))
	if err != nil {
		s.log.WarnContext(c.Request.Context(), "district presentation", "district", userDistrict, "err", err)
		return nil
	}
	var p district.Presentation
	if err := json.Unmarshal(b.Presentation, &p); err != nil {
		s.log.WarnContext(c.Request.Context(), "district presentation", "district", b.ID, "err", err)
		return nil
	}
	v := &districtView{ID: b.ID, Name: p.Name.In(lang), ShortName: b.ShortName, About: p.About.In(lang),
		Logo: template.HTML(p.LogoSVG), LogoAlt: p.LogoAlt.In(lang), //nolint:gosec // checked by district.Parse
		Primary: template.CSS(p.Colours.Primary), Dark: template.CSS(p.Colours.Dark),
		Contacts: contactsView{Address: p.Contacts.Address, Phone: p.Contacts.Phone, Email: p.Contacts.Email,
			PEC: p.Contacts.PEC, Hours: p.Contacts.CallCentreHours.In(lang), Website: p.Contacts.Website}}
	if v.Name == "" {
		v.Name = b.Name
	}
	if v.Dark == "" {
		v.Dark = v.Primary
	}
	return v
}
