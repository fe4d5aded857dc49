package awsapi

import (
	"context"
)

func (s *Server) registerTypeAttributeHandlers() {
	s.handlers["ListObjectTypeAttributes"] = s.listObjectTypeAttributes
	s.handlers["ListObjectTypeAttributeValues"] = s.listObjectTypeAttributeValues
	s.handlers["GetObjectTypeAttributeStatistics"] = s.getObjectTypeAttributeStatistics
}

func (s *Server) listObjectTypeAttributes(ctx context.Context, c *call) (any, error) {
	in, err := bindListObjectTypeAttributes(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.TypeAttributes.ListTypeAttributes(ctx, *in.DomainName, *in.ObjectTypeName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListObjectTypeAttributesResponse{Items: []ListObjectTypeAttributeItem{}, NextToken: optional(next)}
	for _, a := range list {
		out.Items = append(out.Items, ListObjectTypeAttributeItem{AttributeName: &a.Name, LastUpdatedAt: NewTimestamp(a.LastUpdatedAt)})
	}
	return out, nil
}

func (s *Server) listObjectTypeAttributeValues(ctx context.Context, c *call) (any, error) {
	in, err := bindListObjectTypeAttributeValues(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.TypeAttributes.ListAttributeValues(ctx, *in.DomainName, *in.ObjectTypeName, *in.AttributeName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListObjectTypeAttributeValuesResponse{Items: []ListObjectTypeAttributeValuesItem{}, NextToken: optional(next)}
	for _, v := range list {
		out.Items = append(out.Items, ListObjectTypeAttributeValuesItem{Value: &v.Value, LastUpdatedAt: NewTimestamp(v.LastUpdatedAt)})
	}
	return out, nil
}

func (s *Server) getObjectTypeAttributeStatistics(ctx context.Context, c *call) (any, error) {
	in, err := bindGetObjectTypeAttributeStatistics(c)
	if err != nil {
		return nil, err
	}
	st, err := s.TypeAttributes.AttributeStatistics(ctx, *in.DomainName, *in.ObjectTypeName, *in.AttributeName)
	if err != nil {
		return nil, err
	}
	if st.Count == 0 { // no numeric value: no statistics, as on AWS
		return &GetObjectTypeAttributeStatisticsResponse{CalculatedAt: NewTimestamp(s.Now()), Statistics: &GetObjectTypeAttributeStatisticsStats{}}, nil
	}
	return &GetObjectTypeAttributeStatisticsResponse{CalculatedAt: NewTimestamp(s.Now()), Statistics: &GetObjectTypeAttributeStatisticsStats{
		Minimum: &st.Minimum, Maximum: &st.Maximum, Average: &st.Average, StandardDeviation: &st.StdDeviation,
		Percentiles: &GetObjectTypeAttributeStatisticsPercentiles{P5: &st.P5, P25: &st.P25, P50: &st.P50, P75: &st.P75, P95: &st.P95}}}, nil
}
