package awsapi

import "context"

func (s *Server) registerTagHandlers() {
	s.handlers["TagResource"] = s.tagResource
	s.handlers["UntagResource"] = s.untagResource
	s.handlers["ListTagsForResource"] = s.listTagsForResource
}

func (s *Server) tagResource(ctx context.Context, c *call) (any, error) {
	in, err := bindTagResource(c)
	if err != nil {
		return nil, err
	}
	return &TagResourceResponse{}, s.Tags.TagResource(ctx, *in.ResourceArn, in.Tags)
}

func (s *Server) untagResource(ctx context.Context, c *call) (any, error) {
	in, err := bindUntagResource(c)
	if err != nil {
		return nil, err
	}
	return &UntagResourceResponse{}, s.Tags.UntagResource(ctx, *in.ResourceArn, in.TagKeys)
}

func (s *Server) listTagsForResource(ctx context.Context, c *call) (any, error) {
	in, err := bindListTagsForResource(c)
	if err != nil {
		return nil, err
	}
	tags, err := s.Tags.ListTagsForResource(ctx, *in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if tags == nil {
		tags = map[string]string{}
	}
	return &ListTagsForResourceResponse{Tags: tags}, nil
}
