// Runbook (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function RunbookPage() {
  return <ComingSoon title="Runbook" />;
}
