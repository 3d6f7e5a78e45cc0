package broker

import "strings"

// stateLinePrefix starts the line a node running out of wslb's process
// (`wslb echo --broker`) prints for each change of its connection, so
// that the driver that runs it tells verify, as OnState does in process.
const stateLinePrefix = "broker connection "

// StateLine is that line for s and its cause (nil for none).
func StateLine(s State, err error) string {
	line := stateLinePrefix + s.String()
	if err != nil {
		line += ": " + strings.ReplaceAll(err.Error(), "\n", " ")
	}
	return line
}

// ParseStateLine reads a line StateLine made: the state and the cause's
// text; ok is false for any other line.
func ParseStateLine(line string) (s State, cause string, ok bool) {
	rest, found := strings.CutPrefix(strings.TrimSpace(line), stateLinePrefix)
	if !found {
		return Down, "", false
	}
	word, cause, _ := strings.Cut(rest, ": ")
	switch word {
	case "up":
		return Up, cause, true
	case "down":
		return Down, cause, true
	}
	return Down, "", false
}
