package main_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles"
	"github.com/aws/aws-sdk-go-v2/service/customerprofiles/types"
)

// TestWorkspace_TypeKeys: the profile page applies the API's checks of an
// object type's own key to what is computed from that type's objects: a
// calculated value of a type whose key the agent may not decrypt with
// (GetCalculatedAttributeForProfile refuses it) and recommendations when
// _webAnalytics has a key of its own (GetProfileRecommendations refuses
// them) are not in the page, a note says why in their place, and the
// rest of the page shows.
func TestWorkspace_TypeKeys(t *testing.T) {
	e := newDomainEnv(t, "shop")
	ctx := t.Context()
	domainKey, err := e.m.Service.EncryptionKeyARN(ctx, "shop")
	if err != nil || domainKey == "" {
		t.Fatalf("domain key: %q, %v", domainKey, err)
	}
	typeKey := mustServiceKey(t, e.m)
	secret := contactType("secret")
	secret.EncryptionKey = aws.String(typeKey)
	e.putType(secret)
	e.putType(contactType("plain"))
	events := webAnalyticsType()
	events.EncryptionKey = aws.String(typeKey)
	e.putType(events)
	for _, d := range []calcDef{
		{name: "secretId", expr: "{secret.id}", stat: "FIRST_OCCURRENCE", attrs: []string{"id"}, historical: true},
		{name: "plainId", expr: "{plain.id}", stat: "FIRST_OCCURRENCE", attrs: []string{"id"}, historical: true},
	} {
		if _, err := e.createCalc(d); err != nil {
			t.Fatalf("CreateCalculatedAttributeDefinition %s: %v", d.name, err)
		}
	}
	now := time.Now()
	for i := range 4 {
		e.putEvent(i, fmt.Sprintf("buyer%d@example.com", i), "purchase", jacket, now.Add(-time.Duration(i+1)*time.Hour))
	}
	e.putEvent(9, "ann@example.com", "view", shoes, now.Add(-time.Hour))
	e.mustPut("secret", map[string]any{"id": "classified-7", "email": "ann@example.com"})
	e.mustPut("plain", map[string]any{"id": "open-3", "email": "ann@example.com"})
	ann := aws.ToString(e.mustOne("_email", "ann@example.com").ProfileId)
	if _, err := e.client.CreateRecommender(ctx, &customerprofiles.CreateRecommenderInput{DomainName: aws.String("shop"),
		RecommenderName: aws.String("popular"), RecommenderRecipeName: types.RecommenderRecipeNamePopularItems}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.Service.RunRecommenderTraining(ctx); err != nil || n != 1 {
		t.Fatalf("RunRecommenderTraining: %d, %v; want 1", n, err)
	}
	agent := func(name string, keys ...string) *browser {
		resources, _ := json.Marshal(keys)
		id, secret := mustAgent(t, e.m, name, `{"Effect":"Allow","Action":"profile:*","Resource":"*"}`,
			`{"Effect":"Allow","Action":"kms:Decrypt","Resource":`+string(resources)+`}`)
		return mustSignedIn(t, e.m, id, secret)
	}
	page := "/console/domains/shop/profiles/" + ann

	b := agent("agent", domainKey)
	if st := b.open(page); st != http.StatusOK {
		t.Fatalf("the profile page of an agent without kms:Decrypt on the type's key: status %d, want 200\n%s", st, b.text("main"))
	}
	b.mustContain("#profile-name", "ann@example.com")
	b.mustContain(`[data-calculated="plainId"]`, "open-3")
	b.mustContain(`[data-calculated="secretId"]`, "Not shown", "kms:Decrypt", typeKey)
	if b.count("#no-recommendations") != 1 {
		t.Fatalf("the page says nothing of the recommendations the agent may not read:\n%s", b.text("main"))
	}
	b.mustContain("#no-recommendations", "not shown", "kms:Decrypt", typeKey)
	if main := b.text("main"); strings.Contains(main, "classified-7") || strings.Contains(main, jacket.name) {
		t.Errorf("the page shows what the agent may not read (the secret value, or a recommended item):\n%s", main)
	}
	b.shot("workspace-type-keys")

	b = agent("trusted", domainKey, typeKey)
	if st := b.open(page); st != http.StatusOK {
		t.Fatalf("the profile page with kms:Decrypt on both keys: status %d", st)
	}
	b.mustContain(`[data-calculated="secretId"]`, "classified-7")
	b.mustContain(`[data-calculated="plainId"]`, "open-3")
	b.mustContain(`.recommendations[data-recommender="popular"]`, jacket.name)
	if n := b.count("#no-recommendations, .denied"); n != 0 {
		t.Errorf("with kms:Decrypt on both keys the page has %d notes of what is not shown, want none", n)
	}
}
