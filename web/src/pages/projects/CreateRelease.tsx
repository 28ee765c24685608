// Create release (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function CreateRelease() {
  return <ComingSoon title="Create release" />;
}
