// Environments (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function Environments() {
  return <ComingSoon title="Environments" />;
}
