package localsqs

import (
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"slices"
	"strconv"
	"strings"

	"github.com/openprofiles/profiles"
)

// The wire shapes of the SQS JSON protocol (AWS JSON 1.0): members named
// as in the API model, blobs in base64 (encoding/json does this for
// []byte), numbers as JSON numbers, attribute values as strings.

// messageAttribute is a message attribute as SendMessage takes it and
// ReceiveMessage returns it, and (as JSON) as the store keeps it.
type messageAttribute struct {
	DataType         string
	StringValue      string   `json:",omitempty"`
	BinaryValue      []byte   `json:",omitempty"`
	StringListValues []string `json:",omitempty"`
	BinaryListValues [][]byte `json:",omitempty"`
}

// senderKey is the key of the sender in StoredMessage.Attributes: SQS
// reserves names starting with "AWS." so no message attribute has it.
const senderKey = "AWS.SenderId"

// validAttributes checks the message attributes of a SendMessage.
// Returns InvalidParameterValue (EINVALID).
func validAttributes(attrs map[string]messageAttribute) error {
	if len(attrs) > MaxMessageAttrs {
		return invalidParameterf("Number of message attributes [%d] exceeds the allowed maximum [%d].", len(attrs), MaxMessageAttrs)
	}
	for name, a := range attrs {
		if err := validAttributeName(name); err != nil {
			return err
		}
		base, custom, _ := strings.Cut(a.DataType, ".")
		if len(a.DataType) > 256 || a.DataType != base && custom == "" {
			return invalidParameterf("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
		if len(a.StringListValues) > 0 || len(a.BinaryListValues) > 0 {
			return invalidParameterf("Message attribute list values in SendMessage operation are not supported.")
		}
		switch base {
		case "String", "Number":
			if a.StringValue == "" || a.BinaryValue != nil {
				return invalidParameterf("The message attribute '%s' must contain a non-empty message attribute value for message attribute type '%s'.", name, base)
			}
			if base == "Number" {
				if _, err := strconv.ParseFloat(a.StringValue, 64); err != nil {
					return invalidParameterf("Can't cast the value of message (user) attribute '%s' to a number.", name)
				}
			}
			if err := validBody(a.StringValue); err != nil {
				return invalidParameterf("The message attribute '%s' contains characters outside the allowed set.", name)
			}
		case "Binary":
			if len(a.BinaryValue) == 0 || a.StringValue != "" {
				return invalidParameterf("The message attribute '%s' must contain a non-empty message attribute value for message attribute type 'Binary'.", name)
			}
		default:
			return invalidParameterf("The message attribute '%s' has an invalid message attribute type, the set of supported type prefixes is Binary, Number, and String.", name)
		}
	}
	return nil
}

func validAttributeName(name string) error {
	bad := name == "" || len(name) > 256 || name[0] == '.' || name[len(name)-1] == '.' || strings.Contains(name, "..")
	lower := strings.ToLower(name)
	if strings.HasPrefix(lower, "aws.") || strings.HasPrefix(lower, "amazon.") {
		return invalidParameterf("Message attribute name '%s' is reserved for use by Amazon.", name)
	}
	for i := 0; !bad && i < len(name); i++ {
		c := name[i]
		bad = !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '-' || c == '.')
	}
	if bad {
		return invalidParameterf("Message attribute name '%s' is invalid: 1 to 256 letters, digits, '_', '-' and '.', not starting or ending with '.' nor with '..'.", name)
	}
	return nil
}

// encodeAttributes returns the message attributes and the sender as the
// store keeps them: JSON of messageAttribute by name.
func encodeAttributes(attrs map[string]messageAttribute, sender string) (map[string]string, error) {
	out := make(map[string]string, len(attrs)+1)
	for name, a := range attrs {
		b, err := json.Marshal(a)
		if err != nil {
			return nil, err
		}
		out[name] = string(b)
	}
	if sender != "" {
		b, _ := json.Marshal(messageAttribute{DataType: "String", StringValue: sender})
		out[senderKey] = string(b)
	}
	return out, nil
}

// decodeAttributes returns the message attributes of a stored message
// whose names match one of names ("All", ".*", a name, or a prefix
// followed by ".*"), and its sender.
func decodeAttributes(stored map[string]string, names []string) (map[string]messageAttribute, string) {
	var out map[string]messageAttribute
	var sender string
	for name, v := range stored {
		var a messageAttribute
		if json.Unmarshal([]byte(v), &a) != nil {
			continue
		}
		if name == senderKey {
			sender = a.StringValue
			continue
		}
		if !selected(name, names) {
			continue
		}
		if out == nil {
			out = map[string]messageAttribute{}
		}
		out[name] = a
	}
	return out, sender
}

func selected(name string, names []string) bool {
	for _, n := range names {
		switch {
		case n == "All" || n == ".*" || n == name:
			return true
		case strings.HasSuffix(n, ".*") && strings.HasPrefix(name, strings.TrimSuffix(n, "*")):
			return true
		}
	}
	return false
}

// md5Hex returns the hex MD5 of s: MD5OfMessageBody.
func md5Hex(s string) string {
	sum := md5.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}

// md5OfAttributes returns MD5OfMessageAttributes as SQS computes it: over
// the attributes in byte order of their names, each encoded as the name,
// the data type (each a 4-byte big-endian length and the UTF-8 bytes), a
// transport byte (1 for String and Number, 2 for Binary) and the value
// (length and bytes). "" when there are none.
func md5OfAttributes(attrs map[string]messageAttribute) string {
	if len(attrs) == 0 {
		return ""
	}
	names := make([]string, 0, len(attrs))
	for name := range attrs {
		names = append(names, name)
	}
	slices.Sort(names)
	var b []byte
	field := func(v []byte) {
		b = binary.BigEndian.AppendUint32(b, uint32(len(v)))
		b = append(b, v...)
	}
	for _, name := range names {
		a := attrs[name]
		field([]byte(name))
		field([]byte(a.DataType))
		if strings.HasPrefix(a.DataType, "Binary") {
			b = append(b, 2)
			field(a.BinaryValue)
		} else {
			b = append(b, 1)
			field([]byte(a.StringValue))
		}
	}
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

// decode reads a request body into in. An empty body is an empty object.
// Returns SerializationException (EINVALID).
func decode(body []byte, in any) error {
	if len(body) == 0 {
		return nil
	}
	if err := json.Unmarshal(body, in); err != nil {
		return sqsErrorf(ExSerialization, profiles.EINVALID, "The request body is not valid JSON for this operation: %v", err)
	}
	return nil
}

// Paging of ListQueues: a token is the last name of the previous page,
// opaque to clients.

func encodeToken(last string) string { return base64.RawURLEncoding.EncodeToString([]byte(last)) }

func decodeToken(t *string) (string, error) {
	if t == nil || *t == "" {
		return "", nil
	}
	b, err := base64.RawURLEncoding.DecodeString(*t)
	if err != nil || len(b) == 0 {
		return "", invalidParameterf("Invalid NextToken value.")
	}
	return string(b), nil
}

// Inputs and outputs of the operations.

type queueURLInput struct {
	QueueUrl string
}

type createQueueInput struct {
	QueueName  string
	Attributes map[string]string
	Tags       map[string]string `json:"tags"`
}

type queueURLOutput struct {
	QueueUrl string
}

type getQueueURLInput struct {
	QueueName              string
	QueueOwnerAWSAccountId string
}

type listQueuesInput struct {
	QueueNamePrefix string
	NextToken       *string
	MaxResults      *int
}

type listQueuesOutput struct {
	QueueUrls []string `json:",omitempty"`
	NextToken string   `json:",omitempty"`
}

type getQueueAttributesInput struct {
	QueueUrl       string
	AttributeNames []string
}

type attributesOutput struct {
	Attributes map[string]string `json:",omitempty"`
}

type setQueueAttributesInput struct {
	QueueUrl   string
	Attributes map[string]string
}

type sendMessageInput struct {
	QueueUrl                string
	MessageBody             string
	DelaySeconds            *int
	MessageAttributes       map[string]messageAttribute
	MessageSystemAttributes map[string]messageAttribute
	MessageDeduplicationId  string
	MessageGroupId          string
}

type sendMessageOutput struct {
	MessageId              string
	MD5OfMessageBody       string
	MD5OfMessageAttributes string `json:",omitempty"`
}

type receiveMessageInput struct {
	QueueUrl                    string
	AttributeNames              []string
	MessageSystemAttributeNames []string
	MessageAttributeNames       []string
	MaxNumberOfMessages         *int
	VisibilityTimeout           *int
	WaitTimeSeconds             *int
	ReceiveRequestAttemptId     string
}

type message struct {
	MessageId              string
	ReceiptHandle          string
	MD5OfBody              string
	Body                   string
	Attributes             map[string]string           `json:",omitempty"`
	MD5OfMessageAttributes string                      `json:",omitempty"`
	MessageAttributes      map[string]messageAttribute `json:",omitempty"`
}

type receiveMessageOutput struct {
	Messages []message `json:",omitempty"`
}

type deleteMessageInput struct {
	QueueUrl      string
	ReceiptHandle string
}

type changeVisibilityInput struct {
	QueueUrl          string
	ReceiptHandle     string
	VisibilityTimeout *int
}

type tagQueueInput struct {
	QueueUrl string
	Tags     map[string]string
}

type untagQueueInput struct {
	QueueUrl string
	TagKeys  []string
}

type tagsOutput struct {
	Tags map[string]string `json:",omitempty"`
}

type sendBatchEntry struct {
	Id                      string
	MessageBody             string
	DelaySeconds            *int
	MessageAttributes       map[string]messageAttribute
	MessageSystemAttributes map[string]messageAttribute
	MessageDeduplicationId  string
	MessageGroupId          string
}

type sendBatchInput struct {
	QueueUrl string
	Entries  []sendBatchEntry
}

type sendBatchResult struct {
	Id                     string
	MessageId              string
	MD5OfMessageBody       string
	MD5OfMessageAttributes string `json:",omitempty"`
}

type batchError struct {
	Id          string
	Code        string
	Message     string
	SenderFault bool
}

type sendBatchOutput struct {
	Successful []sendBatchResult
	Failed     []batchError
}

type handleBatchEntry struct {
	Id                string
	ReceiptHandle     string
	VisibilityTimeout *int
}

type handleBatchInput struct {
	QueueUrl string
	Entries  []handleBatchEntry
}

type idResult struct {
	Id string
}

type handleBatchOutput struct {
	Successful []idResult
	Failed     []batchError
}

type empty struct{}
