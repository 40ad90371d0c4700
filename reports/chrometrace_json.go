package reports

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
)

// usec formats nanoseconds as microseconds with up to three decimals.
func usec(ns int64) string {
	neg := ns < 0
	if neg {
		ns = -ns
	}
	s := strconv.FormatInt(ns/1000, 10)
	if r := ns % 1000; r != 0 {
		frac := fmt.Sprintf("%03d", r)
		for frac[len(frac)-1] == '0' {
			frac = frac[:len(frac)-1]
		}
		s += "." + frac
	}
	if neg {
		s = "-" + s
	}
	return s
}

func writeEvent(buf *bytes.Buffer, e *tev) error {
	buf.WriteString("{\"ph\":\"")
	buf.WriteByte(e.ph)
	buf.WriteString("\",\"name\":")
	if err := writeString(buf, e.name); err != nil {
		return err
	}
	if e.cat != "" {
		buf.WriteString(",\"cat\":")
		if err := writeString(buf, e.cat); err != nil {
			return err
		}
	}
	buf.WriteString(",\"ts\":")
	buf.WriteString(usec(int64(e.ts)))
	if e.ph == 'X' {
		buf.WriteString(",\"dur\":")
		buf.WriteString(usec(int64(e.dur)))
	}
	fmt.Fprintf(buf, ",\"pid\":%d,\"tid\":%d", e.pid, e.tid)
	if e.hasID {
		fmt.Fprintf(buf, ",\"id\":%d", e.id)
	}
	if e.scope != "" {
		buf.WriteString(",\"s\":\"" + e.scope + "\"")
	}
	if e.bp {
		buf.WriteString(",\"bp\":\"e\"")
	}
	if len(e.args) > 0 {
		buf.WriteString(",\"args\":")
		if err := writeArgs(buf, e.args); err != nil {
			return err
		}
	}
	buf.WriteByte('}')
	return nil
}

func writeString(buf *bytes.Buffer, s string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // task names have "->"
	if err := enc.Encode(s); err != nil {
		return err
	}
	buf.Write(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
	return nil
}

func writeArgs(buf *bytes.Buffer, args []targ) error {
	buf.WriteByte('{')
	for i, a := range args {
		if i > 0 {
			buf.WriteByte(',')
		}
		if err := writeString(buf, a.key); err != nil {
			return err
		}
		buf.WriteByte(':')
		switch v := a.val.(type) {
		case string:
			if err := writeString(buf, v); err != nil {
				return err
			}
		case int64:
			buf.WriteString(strconv.FormatInt(v, 10))
		case float64:
			if math.IsNaN(v) || math.IsInf(v, 0) {
				v = 0
			}
			buf.WriteString(strconv.FormatFloat(math.Round(v*1e4)/1e4, 'f', -1, 64))
		case bool:
			buf.WriteString(strconv.FormatBool(v))
		default:
			return fmt.Errorf("chrome trace: argument %s has unsupported type %T", a.key, a.val)
		}
	}
	buf.WriteByte('}')
	return nil
}
