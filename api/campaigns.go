package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"sportello/api/internal/httpx"
	"sportello/internal/app/campaigns"
	"sportello/internal/store"
)

// Local campaigns (issue 15): the use cases are in internal/app/campaigns;
// these are their JSON adapters.

func (s *server) campaigns() campaigns.Service { return campaigns.New(s.core) }

// reader is the caller of an optional-auth route (nil: anonymous).
func reader(c *gin.Context) *store.UserView {
	if !httpx.LoggedIn(c) {
		return nil
	}
	u := httpx.CurrentUser(c)
	return &u
}

func (s *server) listCampaigns(c *gin.Context) error {
	items, err := s.campaigns().List(c.Request.Context(), reader(c), store.CampaignFilter{District: c.Query("district"),
		Municipality: c.Query("municipality"), Status: c.Query("status")})
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

func (s *server) getCampaign(c *gin.Context) error {
	v, err := s.campaigns().Campaign(c.Request.Context(), reader(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (s *server) createCampaign(c *gin.Context) error {
	var req campaigns.Draft
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.campaigns().Create(c.Request.Context(), httpx.CurrentUser(c), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, v)
	return nil
}

// campaignTransition is POST /campaigns/:id/publish or /close.
func (s *server) campaignTransition(publish bool) func(*gin.Context) error {
	return func(c *gin.Context) error {
		do := s.campaigns().Close
		if publish {
			do = s.campaigns().Publish
		}
		v, err := do(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
		if err != nil {
			return err
		}
		c.JSON(http.StatusOK, v)
		return nil
	}
}

func (s *server) listCampaignCredits(c *gin.Context) error {
	v, err := s.campaigns().Credits(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (s *server) applyToCampaign(c *gin.Context) error {
	v, err := s.campaigns().Apply(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusCreated, v)
	return nil
}

func (s *server) listCampaignApplications(c *gin.Context) error {
	items, err := s.campaigns().Applications(c.Request.Context(), httpx.CurrentUser(c), c.Query("campaign"), c.Query("status"))
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, gin.H{"items": items})
	return nil
}

func (s *server) decideCampaignApplication(c *gin.Context) error {
	var req campaigns.Decision
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	v, err := s.campaigns().Decide(c.Request.Context(), httpx.CurrentUser(c), c.Param("id"), req)
	if err != nil {
		return err
	}
	c.JSON(http.StatusOK, v)
	return nil
}

func (s *server) recordCampaignPurchase(c *gin.Context) error {
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req campaigns.Purchase
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	res, err := s.campaigns().Record(c.Request.Context(), httpx.CurrentUser(c), req, key)
	if err != nil {
		return err
	}
	createdOnce(c, res, res.Replayed)
	return nil
}

// createdOnce answers 201 with v, saying when an earlier request with the
// same Idempotency-Key produced it.
func createdOnce(c *gin.Context, v any, replayed bool) {
	if replayed {
		c.Header("Idempotent-Replayed", "true")
	}
	c.JSON(http.StatusCreated, v)
}
