package clipboard

import (
	"strings"
	"testing"
)

// copyMeta is what qubes-guid writes after a successful 123-byte copy.
var copyMeta = Metadata{VMName: "work", XEventTimestamp: 4294967295, Successful: true, CopyAction: true,
	SentSize: 123, BufferSize: 64000, ProtocolXSide: 0x10008, ProtocolVMSide: 0x10007}

const copyMetaBytes = "{\n" +
	"\"vmname\":\"work\",\n" +
	"\"xevent_timestamp\":4294967295,\n" +
	"\"successful\":1,\n" +
	"\"copy_action\":1,\n" +
	"\"paste_action\":0,\n" +
	"\"malformed_request\":0,\n" +
	"\"oversized_request\":0,\n" +
	"\"cleared\":0,\n" +
	"\"qrexec_clipboard\":0,\n" +
	"\"sent_size\":123,\n" +
	"\"buffer_size\":64000,\n" +
	"\"protocol_version_xside\":65544,\n" +
	"\"protocol_version_vmside\":65543\n" +
	"}\n"

func TestMetadataMarshalExactBytes(t *testing.T) {
	if got := string(copyMeta.Marshal()); got != copyMetaBytes {
		t.Fatalf("Marshal:\n%s\nwant:\n%s", got, copyMetaBytes)
	}
	m, err := ParseMetadata([]byte(copyMetaBytes))
	if err != nil || m != copyMeta {
		t.Fatalf("ParseMetadata = %+v, %v; want %+v", m, err, copyMeta)
	}
}

// qui-clipboard's "Copy dom0 clipboard" writes a trailing comma and no
// oversized_request; the daemon's parser accepts that, so must ours.
func TestParseMetadataQuiClipboardFile(t *testing.T) {
	in := "{\n\"vmname\":\"dom0\",\n\"xevent_timestamp\":0,\n\"successful\":1,\n\"copy_action\":1,\n" +
		"\"paste_action\":0,\n\"malformed_request\":0,\n\"cleared\":0,\n\"qrexec_clipboard\":0,\n" +
		"\"sent_size\":5,\n\"buffer_size\":256000,\n\"protocol_version_xside\":65544,\n\"protocol_version_vmside\":65544,\n}\n"
	m, err := ParseMetadata([]byte(in))
	want := Metadata{VMName: "dom0", Successful: true, CopyAction: true, SentSize: 5, BufferSize: 256000,
		ProtocolXSide: 65544, ProtocolVMSide: 65544}
	if err != nil || m != want {
		t.Fatalf("ParseMetadata = %+v, %v; want %+v", m, err, want)
	}
}

func TestParseMetadataLenientWhereDaemonIs(t *testing.T) {
	for name, in := range map[string]string{
		"empty file":       "",
		"blank lines":      "\n{\n\n}\n",
		"unknown key":      "{\n\"future_key\":7,\n}\n",
		"empty vmname":     "{\n\"vmname\":\"\",\n}\n",
		"dotted vmname":    "{\n\"vmname\":\"my.qube\"\n}\n",
		"31-char vmname":   "{\n\"vmname\":\"" + strings.Repeat("a", 31) + "\"\n}\n",
		"leading zeros":    "{\n\"sent_size\":007\n}\n",
		"255-byte line":    "{\n\"x\":" + strings.Repeat("0", 251) + "\n}\n",
		"64-bit xevent":    "{\n\"xevent_timestamp\":18446744073709551615\n}\n",
		"no braces at all": "\"cleared\":1\n",
	} {
		if _, err := ParseMetadata([]byte(in)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseMetadataRejects(t *testing.T) {
	for name, in := range map[string]string{
		"no final newline":   "{\n\"cleared\":1\n}",
		"256-byte line":      "{\n\"x\":" + strings.Repeat("0", 252) + "\n}\n",
		"leading space":      "{\n \"cleared\":1\n}\n",
		"space after colon":  "{\n\"cleared\": 1\n}\n",
		"unquoted key":       "{\ncleared:1\n}\n",
		"key with dot":       "{\n\"clea.red\":1\n}\n",
		"empty key":          "{\n\"\":1\n}\n",
		"no value":           "{\n\"cleared\":\n}\n",
		"no colon":           "{\n\"cleared\"1\n}\n",
		"boolean 2":          "{\n\"cleared\":2\n}\n",
		"negative":           "{\n\"sent_size\":-1\n}\n",
		"plus sign":          "{\n\"sent_size\":+1\n}\n",
		"hex":                "{\n\"sent_size\":0x10\n}\n",
		"32-bit overflow":    "{\n\"sent_size\":4294967296\n}\n",
		"trailing garbage":   "{\n\"sent_size\":1,x\n}\n",
		"two commas":         "{\n\"sent_size\":1,,\n}\n",
		"duplicate key":      "{\n\"cleared\":1,\n\"cleared\":0\n}\n",
		"unquoted vmname":    "{\n\"vmname\":work\n}\n",
		"32-char vmname":     "{\n\"vmname\":\"" + strings.Repeat("a", 32) + "\"\n}\n",
		"vmname with space":  "{\n\"vmname\":\"a b\"\n}\n",
		"vmname with quote":  "{\n\"vmname\":\"a\"b\"\n}\n",
		"vmname digit first": "{\n\"vmname\":\"1abc\"\n}\n",
		"unknown key string": "{\n\"future\":\"x\"\n}\n",
		"JSON on one line":   "{\"cleared\":1}\n",
		"CRLF":               "{\r\n\"cleared\":1\r\n}\r\n",
		"NUL in value":       "{\n\"cleared\":1\x00\n}\n",
		"oversized file":     strings.Repeat("\n", maxMetadataSize+1),
	} {
		if m, err := ParseMetadata([]byte(in)); err == nil {
			t.Errorf("%s: accepted as %+v", name, m)
		}
	}
}
