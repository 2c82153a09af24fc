package shipgate

// Level is a log level of the shipgate.log host import.
type Level uint32

// Log levels.
const (
	LevelDebug Level = 0
	LevelInfo  Level = 1
	LevelWarn  Level = 2
	LevelError Level = 3
)
