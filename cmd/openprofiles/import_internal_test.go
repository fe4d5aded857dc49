package main

import (
	"bytes"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// TestImport_ArrayMemory reads a file of 60,000 objects (about 13 MB) as
// one JSON array and as JSON Lines: the objects' texts are what import
// keeps until it sends them, and the array must not take much more memory
// to read than that (decoded whole, it allocated about six times the
// file's size: the decoder's copy of the file, each element's copy, and
// the compacted texts), nor more than JSON Lines take.
func TestImport_ArrayMemory(t *testing.T) {
	var arr, lines bytes.Buffer
	arr.WriteString("[\n")
	for i := range 60000 {
		o := fmt.Sprintf(`{"id":"c%07d","email":"person%07d@example.com","name":{"first":"%s"}}`, i, i, strings.Repeat("x", 150))
		if i > 0 {
			arr.WriteString(",\n")
		}
		arr.WriteString(o)
		lines.WriteString(o + "\n")
	}
	arr.WriteString("\n]\n")
	read := func(name string, file []byte) (allocated uint64, objects []string) {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		objects, err := readObjects(bytes.NewReader(file))
		runtime.ReadMemStats(&after)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return after.TotalAlloc - before.TotalAlloc, objects
	}
	arrAlloc, arrObjs := read("array", arr.Bytes())
	linesAlloc, linesObjs := read("lines", lines.Bytes())
	if len(arrObjs) != 60000 || len(linesObjs) != 60000 {
		t.Fatalf("read %d objects of the array, %d of the lines; want 60000", len(arrObjs), len(linesObjs))
	}
	for i := range arrObjs {
		if arrObjs[i] != linesObjs[i] {
			t.Fatalf("object %d of the array %q, of the lines %q", i+1, arrObjs[i], linesObjs[i])
		}
	}
	size := uint64(arr.Len())
	t.Logf("file %d bytes: the array allocated %d, the lines %d", size, arrAlloc, linesAlloc)
	if arrAlloc > 3*size || arrAlloc > 2*linesAlloc {
		t.Errorf("reading the %d-byte array allocated %d bytes (%.1f times its size; JSON Lines: %d)", size, arrAlloc, float64(arrAlloc)/float64(size), linesAlloc)
	}
}
