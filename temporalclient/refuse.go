package temporalclient

import (
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/workflow"
)

// RefusedMetric counts signals dropped because they arrived without the codec.
const RefusedMetric = "jitaccess_unencrypted_signals_refused"

// refuser drops signals whose payloads are not encrypted before they reach the workflow's
// channel, and logs and counts them. Without it the SDK drops an undecodable signal only when
// the workflow receives it, after a selector or an Await has already woken on it. Workflow
// inputs and update arguments need no interceptor: the worker's strict codec fails their
// decoding, which fails the run (input) or rejects the update.
type refuser struct {
	interceptor.InterceptorBase
}

func (r *refuser) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &refuseInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}}
}

type refuseInbound struct {
	interceptor.WorkflowInboundInterceptorBase
}

func (r *refuseInbound) HandleSignal(ctx workflow.Context, in *interceptor.HandleSignalInput) error {
	for _, p := range in.Arg.GetPayloads() {
		if !IsEncrypted(p) {
			workflow.GetLogger(ctx).Warn("signal refused: payload not encrypted (sent without jitaccess's codec)", "signal", in.SignalName)
			workflow.GetMetricsHandler(ctx).WithTags(map[string]string{"signal": in.SignalName}).Counter(RefusedMetric).Inc(1)
			return nil
		}
	}
	return r.Next.HandleSignal(ctx, in)
}
