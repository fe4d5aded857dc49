package awsapi

import (
	"context"

	"github.com/openprofiles/profiles"
)

func (s *Server) registerSnapshotHandlers() {
	s.handlers["CreateSegmentSnapshot"] = s.createSegmentSnapshot
	s.handlers["GetSegmentSnapshot"] = s.getSegmentSnapshot
}

func (s *Server) createSegmentSnapshot(ctx context.Context, c *call) (any, error) {
	in, err := bindCreateSegmentSnapshot(c)
	if err != nil {
		return nil, err
	}
	snap, err := s.Snapshots.CreateSegmentSnapshot(ctx, &profiles.SegmentSnapshot{DomainName: *in.DomainName, SegmentName: *in.SegmentDefinitionName,
		DataFormat: deref(in.DataFormat), DestinationURI: deref(in.DestinationUri), EncryptionKey: deref(in.EncryptionKey), RoleArn: deref(in.RoleArn)})
	if err != nil {
		return nil, err
	}
	return &CreateSegmentSnapshotResponse{SnapshotId: &snap.ID}, nil
}

func (s *Server) getSegmentSnapshot(ctx context.Context, c *call) (any, error) {
	in, err := bindGetSegmentSnapshot(c)
	if err != nil {
		return nil, err
	}
	snap, err := s.Snapshots.GetSegmentSnapshot(ctx, *in.DomainName, *in.SegmentDefinitionName, *in.SnapshotId)
	if err != nil {
		return nil, err
	}
	return &GetSegmentSnapshotResponse{SnapshotId: &snap.ID, Status: &snap.Status, StatusMessage: optional(snap.StatusMessage),
		DataFormat: &snap.DataFormat, DestinationUri: optional(snap.DestinationURI), EncryptionKey: optional(snap.EncryptionKey),
		RoleArn: optional(snap.RoleArn)}, nil
}
