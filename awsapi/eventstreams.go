package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerEventStreamHandlers() {
	s.handlers["CreateEventStream"] = s.createEventStream
	s.handlers["GetEventStream"] = s.getEventStream
	s.handlers["DeleteEventStream"] = s.deleteEventStream
	s.handlers["ListEventStreams"] = s.listEventStreams
}

func (s *Server) createEventStream(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateEventStream(c)
	if err != nil {
		return nil, err
	}
	es, err := s.EventStreams.CreateEventStream(ctx, &profiles.EventStream{DomainName: *in.DomainName, Name: *in.EventStreamName,
		Uri: *in.Uri, Tags: in.Tags})
	if err != nil {
		return nil, err
	}
	return &CreateEventStreamResponse{EventStreamArn: &es.Arn, Tags: es.Tags}, nil
}

func (s *Server) getEventStream(ctx context.Context, c *call) (any, error) {
	in, err := bindGetEventStream(c)
	if err != nil {
		return nil, err
	}
	es, err := s.EventStreams.GetEventStream(ctx, *in.DomainName, *in.EventStreamName)
	if err != nil {
		return nil, err
	}
	return &GetEventStreamResponse{DomainName: &es.DomainName, EventStreamArn: &es.Arn, CreatedAt: NewTimestamp(es.CreatedAt),
		State: &es.State, StoppedSince: NewTimestamp(es.StoppedSince), Tags: es.Tags,
		DestinationDetails: &EventStreamDestinationDetails{Uri: &es.Uri, Status: &es.Status,
			UnhealthySince: NewTimestamp(es.UnhealthySince), Message: optional(es.Message)}}, nil
}

func (s *Server) deleteEventStream(ctx context.Context, c *call) (any, error) {
	in, err := bindDeleteEventStream(c)
	if err != nil {
		return nil, err
	}
	if err := s.EventStreams.DeleteEventStream(ctx, *in.DomainName, *in.EventStreamName); err != nil {
		return nil, err
	}
	return &DeleteEventStreamResponse{}, nil
}

func (s *Server) listEventStreams(ctx context.Context, c *call) (any, error) {
	in, err := bindListEventStreams(c)
	if err != nil {
		return nil, err
	}
	list, next, err := s.EventStreams.ListEventStreams(ctx, *in.DomainName, page(in.NextToken, in.MaxResults))
	if err != nil {
		return nil, err
	}
	out := &ListEventStreamsResponse{Items: []EventStreamSummary{}, NextToken: optional(next)}
	for _, es := range list {
		out.Items = append(out.Items, EventStreamSummary{DomainName: &es.DomainName, EventStreamName: &es.Name, EventStreamArn: &es.Arn,
			State: &es.State, StoppedSince: NewTimestamp(es.StoppedSince), Tags: es.Tags,
			DestinationSummary: &DestinationSummary{Uri: &es.Uri, Status: &es.Status, UnhealthySince: NewTimestamp(es.UnhealthySince)}})
	}
	return out, nil
}
