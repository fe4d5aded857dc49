package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerRecommenderHandlers() {
	s.handlers["CreateRecommender"] = s.createRecommender
	s.handlers["GetRecommender"] = s.getRecommender
	s.handlers["UpdateRecommender"] = s.updateRecommender
	s.handlers["DeleteRecommender"] = s.deleteRecommender
	s.handlers["ListRecommenders"] = s.listRecommenders
	s.handlers["StartRecommender"] = s.startRecommender
	s.handlers["StopRecommender"] = s.stopRecommender
	s.handlers["ListRecommenderRecipes"] = s.listRecommenderRecipes
	s.handlers["CreateRecommenderSchema"] = s.createRecommenderSchema
	s.handlers["GetRecommenderSchema"] = s.getRecommenderSchema
	s.handlers["DeleteRecommenderSchema"] = s.deleteRecommenderSchema
	s.handlers["ListRecommenderSchemas"] = s.listRecommenderSchemas
	s.handlers["CreateRecommenderFilter"] = s.createRecommenderFilter
	s.handlers["GetRecommenderFilter"] = s.getRecommenderFilter
	s.handlers["DeleteRecommenderFilter"] = s.deleteRecommenderFilter
	s.handlers["ListRecommenderFilters"] = s.listRecommenderFilters
	s.handlers["GetProfileRecommendations"] = s.getProfileRecommendations
}

// defaultTrainingMetrics is how many versions' metrics GetRecommender
// returns when TrainingMetricsCount is not given: the newest.
const defaultTrainingMetrics = 1

func (s *Server) createRecommender(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateRecommender(c)
	if err != nil {
		return nil, err
	}
	r, err := s.Recommenders.CreateRecommender(ctx, &profiles.Recommender{DomainName: *in.DomainName, Name: *in.RecommenderName,
		RecipeName: deref(in.RecommenderRecipeName), SchemaName: deref(in.RecommenderSchemaName), Description: deref(in.Description),
		Config: recommenderConfigFromWire(in.RecommenderConfig), Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	return &CreateRecommenderResponse{RecommenderArn: &r.Arn, Tags: tagsToWire(r.Tags)}, nil
}

func (s *Server) getRecommender(ctx context.Context, c *call) (any, error) {
	in, err := bindGetRecommender(c)
	if err != nil {
		return nil, err
	}
	n := defaultTrainingMetrics
	if in.TrainingMetricsCount != nil {
		n = *in.TrainingMetricsCount
	}
	r, err := s.Recommenders.GetRecommender(ctx, *in.DomainName, *in.RecommenderName, n)
	if err != nil {
		return nil, err
	}
	out := &GetRecommenderResponse{ActiveRecommenderVersionName: optional(r.ActiveVersion), CreatedAt: NewTimestamp(r.CreatedAt),
		Description: optional(r.Description), FailureReason: optional(r.FailureReason), LastUpdatedAt: NewTimestamp(r.LastUpdatedAt),
		LatestRecommenderUpdate: recommenderUpdateToWire(r.LatestUpdate), RecommenderConfig: recommenderConfigToWire(r.Config),
		RecommenderName: &r.Name, RecommenderRecipeName: &r.RecipeName, RecommenderSchemaName: optional(r.SchemaName),
		Status: &r.Status, Tags: tagsToWire(r.Tags)}
	for _, m := range r.TrainingMetrics {
		out.TrainingMetrics = append(out.TrainingMetrics, TrainingMetrics{Metrics: m.Metrics,
			RecommenderVersionName: optional(m.VersionName), Time: NewTimestamp(m.Time)})
	}
	return out, nil
}

func (s *Server) updateRecommender(ctx context.Context, c *call) (any, error) {
	in, err := bindUpdateRecommender(c)
	if err != nil {
		return nil, err
	}
	r, err := s.Recommenders.UpdateRecommender(ctx, *in.DomainName, *in.RecommenderName, profiles.RecommenderChange{
		Description: in.Description, Config: recommenderConfigFromWire(in.RecommenderConfig), VersionName: in.RecommenderVersionName})
	if err != nil {
		return nil, err
	}
	return &UpdateRecommenderResponse{RecommenderName: &r.Name}, nil
}

func (s *Server) deleteRecommender(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteRecommender(c)
	if err != nil {
		return nil, err
	}
	if err := s.Recommenders.DeleteRecommender(ctx, *in.DomainName, *in.RecommenderName); err != nil {
		return nil, err
	}
	return &DeleteRecommenderResponse{}, nil
}

func (s *Server) listRecommenders(ctx context.Context, c *call) (any, error) {
	in, err := bindListRecommenders(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Recommenders.ListRecommenders(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListRecommendersResponse{Recommenders: []RecommenderSummary{}, NextToken: optional(next)}
	for _, r := range list {
		out.Recommenders = append(out.Recommenders, RecommenderSummary{CreatedAt: NewTimestamp(r.CreatedAt),
			Description: optional(r.Description), FailureReason: optional(r.FailureReason), LastUpdatedAt: NewTimestamp(r.LastUpdatedAt),
			LatestRecommenderUpdate: recommenderUpdateToWire(r.LatestUpdate), RecipeName: &r.RecipeName,
			RecommenderConfig: recommenderConfigToWire(r.Config), RecommenderName: &r.Name,
			RecommenderSchemaName: optional(r.SchemaName), Status: &r.Status, Tags: tagsToWire(r.Tags)})
	}
	return out, nil
}

func (s *Server) startRecommender(ctx context.Context, c *call) (any, error) {
	in, err := bindStartRecommender(c)
	if err != nil {
		return nil, err
	}
	if err := s.Recommenders.StartRecommender(ctx, *in.DomainName, *in.RecommenderName); err != nil {
		return nil, err
	}
	return &StartRecommenderResponse{}, nil
}

func (s *Server) stopRecommender(ctx context.Context, c *call) (any, error) {
	in, err := bindStopRecommender(c)
	if err != nil {
		return nil, err
	}
	if err := s.Recommenders.StopRecommender(ctx, *in.DomainName, *in.RecommenderName); err != nil {
		return nil, err
	}
	return &StopRecommenderResponse{}, nil
}

func (s *Server) listRecommenderRecipes(ctx context.Context, c *call) (any, error) {
	in, err := bindListRecommenderRecipes(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Recommenders.ListRecommenderRecipes(ctx, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListRecommenderRecipesResponse{RecommenderRecipes: []RecommenderRecipe{}, NextToken: optional(next)}
	for _, r := range list {
		out.RecommenderRecipes = append(out.RecommenderRecipes, RecommenderRecipe{Name: optional(r.Name), Description: optional(r.Description)})
	}
	return out, nil
}

func (s *Server) createRecommenderSchema(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateRecommenderSchema(c)
	if err != nil {
		return nil, err
	}
	fields := map[string][]profiles.RecommenderSchemaField{}
	for typ, list := range in.Fields {
		for _, f := range list {
			fields[typ] = append(fields[typ], profiles.RecommenderSchemaField{TargetFieldName: deref(f.TargetFieldName),
				ContentType: deref(f.ContentType), FeatureType: deref(f.FeatureType)})
		}
	}
	sc, err := s.Recommenders.CreateRecommenderSchema(ctx, &profiles.RecommenderSchema{DomainName: *in.DomainName,
		Name: *in.RecommenderSchemaName, Fields: fields, Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	return &CreateRecommenderSchemaResponse{CreatedAt: NewTimestamp(sc.CreatedAt), Fields: schemaFieldsToWire(sc.Fields),
		RecommenderSchemaArn: &sc.Arn, RecommenderSchemaName: &sc.Name, Status: &sc.Status, Tags: tagsToWire(sc.Tags)}, nil
}

func schemaFieldsToWire(fields map[string][]profiles.RecommenderSchemaField) map[string][]RecommenderSchemaField {
	out := map[string][]RecommenderSchemaField{}
	for typ, list := range fields {
		for _, f := range list {
			out[typ] = append(out[typ], RecommenderSchemaField{TargetFieldName: optional(f.TargetFieldName),
				ContentType: optional(f.ContentType), FeatureType: optional(f.FeatureType)})
		}
	}
	return out
}

func (s *Server) getRecommenderSchema(ctx context.Context, c *call) (any, error) {
	in, err := bindGetRecommenderSchema(c)
	if err != nil {
		return nil, err
	}
	sc, err := s.Recommenders.GetRecommenderSchema(ctx, *in.DomainName, *in.RecommenderSchemaName)
	if err != nil {
		return nil, err
	}
	return &GetRecommenderSchemaResponse{CreatedAt: NewTimestamp(sc.CreatedAt), Fields: schemaFieldsToWire(sc.Fields),
		RecommenderSchemaName: &sc.Name, Status: &sc.Status}, nil
}

func (s *Server) deleteRecommenderSchema(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteRecommenderSchema(c)
	if err != nil {
		return nil, err
	}
	if err := s.Recommenders.DeleteRecommenderSchema(ctx, *in.DomainName, *in.RecommenderSchemaName); err != nil {
		return nil, err
	}
	return &DeleteRecommenderSchemaResponse{}, nil
}

func (s *Server) listRecommenderSchemas(ctx context.Context, c *call) (any, error) {
	in, err := bindListRecommenderSchemas(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Recommenders.ListRecommenderSchemas(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListRecommenderSchemasResponse{RecommenderSchemas: []RecommenderSchemaSummary{}, NextToken: optional(next)}
	for _, sc := range list {
		out.RecommenderSchemas = append(out.RecommenderSchemas, RecommenderSchemaSummary{CreatedAt: NewTimestamp(sc.CreatedAt),
			Fields: schemaFieldsToWire(sc.Fields), RecommenderSchemaName: &sc.Name, Status: &sc.Status})
	}
	return out, nil
}

func (s *Server) createRecommenderFilter(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateRecommenderFilter(c)
	if err != nil {
		return nil, err
	}
	f, err := s.Recommenders.CreateRecommenderFilter(ctx, &profiles.RecommenderFilter{DomainName: *in.DomainName,
		Name: *in.RecommenderFilterName, Expression: deref(in.RecommenderFilterExpression),
		SchemaName: deref(in.RecommenderSchemaName), Description: deref(in.Description), Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	return &CreateRecommenderFilterResponse{RecommenderFilterArn: &f.Arn, Tags: tagsToWire(f.Tags)}, nil
}

func (s *Server) getRecommenderFilter(ctx context.Context, c *call) (any, error) {
	in, err := bindGetRecommenderFilter(c)
	if err != nil {
		return nil, err
	}
	f, err := s.Recommenders.GetRecommenderFilter(ctx, *in.DomainName, *in.RecommenderFilterName)
	if err != nil {
		return nil, err
	}
	return &GetRecommenderFilterResponse{CreatedAt: NewTimestamp(f.CreatedAt), Description: optional(f.Description),
		FailureReason: optional(f.FailureReason), RecommenderFilterExpression: &f.Expression, RecommenderFilterName: &f.Name,
		RecommenderSchemaName: optional(f.SchemaName), Status: &f.Status, Tags: nonNilTags(f.Tags)}, nil
}

// nonNilTags returns tags, {} for none: a member the model requires.
func nonNilTags(tags map[string]string) map[string]string {
	if tags == nil {
		return map[string]string{}
	}
	return tags
}

func (s *Server) deleteRecommenderFilter(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteRecommenderFilter(c)
	if err != nil {
		return nil, err
	}
	if err := s.Recommenders.DeleteRecommenderFilter(ctx, *in.DomainName, *in.RecommenderFilterName); err != nil {
		return nil, err
	}
	msg := "Recommender filter " + *in.RecommenderFilterName + " has been deleted."
	return &DeleteRecommenderFilterResponse{Message: &msg}, nil
}

func (s *Server) listRecommenderFilters(ctx context.Context, c *call) (any, error) {
	in, err := bindListRecommenderFilters(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.Recommenders.ListRecommenderFilters(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListRecommenderFiltersResponse{RecommenderFilters: []RecommenderFilterSummary{}, NextToken: optional(next)}
	for _, f := range list {
		out.RecommenderFilters = append(out.RecommenderFilters, RecommenderFilterSummary{CreatedAt: NewTimestamp(f.CreatedAt),
			Description: optional(f.Description), FailureReason: optional(f.FailureReason), RecommenderFilterExpression: &f.Expression,
			RecommenderFilterName: &f.Name, RecommenderSchemaName: optional(f.SchemaName), Status: &f.Status, Tags: tagsToWire(f.Tags)})
	}
	return out, nil
}

func (s *Server) getProfileRecommendations(ctx context.Context, c *call) (any, error) {
	in, err := bindGetProfileRecommendations(c)
	if err != nil {
		return nil, err
	}
	req := &profiles.RecommendationsRequest{DomainName: *in.DomainName, ProfileID: *in.ProfileId, RecommenderName: deref(in.RecommenderName),
		Context: in.Context, CandidateIDs: in.CandidateIds, MaxResults: derefInt(in.MaxResults)}
	if len(in.RecommenderFilters) > 0 {
		f := in.RecommenderFilters[0]
		req.Filter = &profiles.RecommenderFilterUse{Name: deref(f.Name), Values: f.Values}
	}
	if len(in.RecommenderPromotionalFilters) > 0 {
		p := in.RecommenderPromotionalFilters[0]
		req.Promotion = &profiles.RecommenderPromotion{Name: deref(p.Name), Values: p.Values, PromotionName: deref(p.PromotionName),
			Percent: derefInt(p.PercentPromotedItems)}
	}
	if in.MetadataConfig != nil {
		req.MetadataColumns = in.MetadataConfig.MetadataColumns
	}
	if d := in.DiversityConfig; d != nil {
		req.Diversity = &profiles.RecommendationDiversity{Enabled: derefBool(d.Enabled), Values: d.Values}
	}
	recs, err := s.Recommenders.GetProfileRecommendations(ctx, req)
	if err != nil {
		return nil, err
	}
	out := &GetProfileRecommendationsResponse{Recommendations: []Recommendation{}}
	for _, r := range recs {
		it := r.Item
		score := r.Score
		out.Recommendations = append(out.Recommendations, Recommendation{Score: &score, CatalogItem: &CatalogItem{
			Id: optional(it.ID), Name: optional(it.Name), Code: optional(it.Code), Type: optional(it.Type),
			Category: optional(it.Category), Description: optional(it.Description),
			AdditionalInformation: optional(it.AdditionalInformation), ImageLink: optional(it.ImageLink),
			Link: optional(it.Link), Price: optional(it.Price), CreatedAt: NewTimestamp(it.CreatedAt),
			UpdatedAt: NewTimestamp(it.UpdatedAt), Attributes: it.Attributes}})
	}
	return out, nil
}

func recommenderConfigFromWire(w *RecommenderConfig) *profiles.RecommenderConfig {
	if w == nil {
		return nil
	}
	c := &profiles.RecommenderConfig{TrainingFrequency: w.TrainingFrequency, IncludedColumns: w.IncludedColumns, ExcludedColumns: w.ExcludedColumns}
	if w.EventsConfig != nil {
		c.EventsConfig = &profiles.RecommenderEventsConfig{}
		for _, p := range w.EventsConfig.EventParametersList {
			c.EventsConfig.EventParametersList = append(c.EventsConfig.EventParametersList, profiles.RecommenderEventParameters{
				EventType: deref(p.EventType), EventValueThreshold: p.EventValueThreshold, EventWeight: p.EventWeight})
		}
	}
	if w.InferenceConfig != nil {
		c.InferenceConfig = &profiles.RecommenderInferenceConfig{MinProvisionedTPS: w.InferenceConfig.MinProvisionedTPS}
	}
	if w.DiversityConfig != nil {
		c.DiversityConfig = &profiles.DiversityConfig{}
		for _, d := range w.DiversityConfig.DiversityColumns {
			c.DiversityConfig.DiversityColumns = append(c.DiversityConfig.DiversityColumns, profiles.DiversityColumn{
				Name: deref(d.Name), CapType: deref(d.CapType), Target: deref(d.Target)})
		}
	}
	return c
}

func recommenderConfigToWire(c *profiles.RecommenderConfig) *RecommenderConfig {
	if c == nil {
		return nil
	}
	w := &RecommenderConfig{TrainingFrequency: c.TrainingFrequency, IncludedColumns: c.IncludedColumns, ExcludedColumns: c.ExcludedColumns}
	if c.EventsConfig != nil {
		w.EventsConfig = &EventsConfig{EventParametersList: []EventParameters{}}
		for _, p := range c.EventsConfig.EventParametersList {
			w.EventsConfig.EventParametersList = append(w.EventsConfig.EventParametersList, EventParameters{
				EventType: &p.EventType, EventValueThreshold: p.EventValueThreshold, EventWeight: p.EventWeight})
		}
	}
	if c.InferenceConfig != nil {
		w.InferenceConfig = &InferenceConfig{MinProvisionedTPS: c.InferenceConfig.MinProvisionedTPS}
	}
	if c.DiversityConfig != nil {
		w.DiversityConfig = &DiversityConfig{}
		for _, d := range c.DiversityConfig.DiversityColumns {
			w.DiversityConfig.DiversityColumns = append(w.DiversityConfig.DiversityColumns, DiversityColumn{
				Name: &d.Name, CapType: &d.CapType, Target: &d.Target})
		}
	}
	return w
}

func recommenderUpdateToWire(u *profiles.RecommenderUpdate) *RecommenderUpdate {
	if u == nil {
		return nil
	}
	return &RecommenderUpdate{CreatedAt: NewTimestamp(u.CreatedAt), FailureReason: optional(u.FailureReason),
		LastUpdatedAt: NewTimestamp(u.LastUpdatedAt), RecommenderConfig: recommenderConfigToWire(u.Config),
		RecommenderVersionName: optional(u.VersionName), Status: &u.Status}
}
