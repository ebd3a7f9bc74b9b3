package workflows

import "sportello/internal/contract"

// TaskQueue is the task queue every Sportello worker polls.
const TaskQueue = contract.TaskQueue

// CaseWorkflowID is the workflow id of a case: one case, one workflow, whatever
// the number of clicks or retries that started it.
func CaseWorkflowID(caseID string) string { return contract.CaseWorkflowID(caseID) }
