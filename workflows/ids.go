package workflows

// TaskQueue is the task queue every Sportello worker polls.
const TaskQueue = "sportello-cases"

// CaseWorkflowID is the workflow id of a case: one case, one workflow, whatever
// the number of clicks or retries that started it.
func CaseWorkflowID(caseID string) string { return "case:" + caseID }
