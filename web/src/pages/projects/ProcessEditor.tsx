// Process (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function ProcessEditor() {
  return <ComingSoon title="Process" />;
}
