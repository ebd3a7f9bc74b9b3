package workflows

import (
	"strconv"

	"github.com/google/uuid"

	"sportello/internal/contract"
)

// TaskQueue is the task queue every Sportello worker polls.
const TaskQueue = contract.TaskQueue

// CaseWorkflowID is the workflow id of a case: one case, one workflow, whatever
// the number of clicks or retries that started it.
func CaseWorkflowID(caseID string) string { return contract.CaseWorkflowID(caseID) }

// reviewTaskSpace is the UUID name space of review task ids.
var reviewTaskSpace = uuid.MustParse("6f1d0c3e-5b7a-4e0f-9a51-2c8e7d4b9a10")

// reviewTaskID is the id of the review task a food-voucher run opens in
// round (1, 2, ...): a name-based UUID of the run id and the round, the
// same on every attempt of the workflow task that opens it, and another
// for another run (a reset) or round.
func reviewTaskID(runID string, round int) string {
	return uuid.NewSHA1(reviewTaskSpace, []byte(runID+"/review/"+strconv.Itoa(round))).String()
}
