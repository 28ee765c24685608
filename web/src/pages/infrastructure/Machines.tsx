// Deployment targets (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Machines() {
  return <ComingSoon title="Deployment targets" />;
}
