// Deployment target (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function MachinePage() {
  return <ComingSoon title="Deployment target" />;
}
