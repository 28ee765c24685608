// User (issue 13). Placeholder until its page is built.
import { ComingSoon } from '../Placeholders';

export function UserPage() {
  return <ComingSoon title="User" />;
}
